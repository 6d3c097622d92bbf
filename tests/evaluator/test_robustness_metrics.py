"""Robustness metrics against independent computations: a plain loop and scikit-learn."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import top_k_accuracy_score

from evaluator.robustness.metrics import relative_increase, robustness_report_from_logits

NAMES = ("rotate_45", "blur_2", "hflip")  # two corruptions and the control


def loop_error(logits: np.ndarray, labels: np.ndarray, k: int) -> float | None:
    """The documented rule, row by row: ties to the lower index, non-finite rows wrong."""
    if len(labels) == 0:
        return None
    wrong = 0
    for row, label in zip(logits.tolist(), labels.tolist(), strict=True):
        if any(not math.isfinite(v) for v in row):
            wrong += 1
            continue
        order = sorted(range(len(row)), key=lambda c: (-row[c], c))
        wrong += label not in order[: min(k, len(row))]
    return wrong / len(labels)


def make_case(seed: int, *, n: int = 300, classes: int = 10) -> dict:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    clean = rng.standard_normal((n, classes)).astype(np.float32)
    clean[np.arange(n), labels] += 1.5  # a model that is right most of the time
    robust = {}
    for i, name in enumerate(NAMES):
        noisy = clean + rng.standard_normal((n, classes)).astype(np.float32) * (1 + i)
        robust[name] = noisy
    robust["rotate_45"][:7] = 0.0  # all tied: class 0 wins
    robust["blur_2"][3, 2] = np.nan  # wrong at every k
    robust["blur_2"][4, 0] = np.inf
    return {
        "labels": labels,
        "clean": clean,
        "robust": robust,
        "public": rng.random(n) < 0.4,
        "classes": classes,
    }


def report(case: dict) -> dict:
    return robustness_report_from_logits(
        clean_logits=case["clean"],
        robust_logits=case["robust"],
        labels=case["labels"],
        public_mask=case["public"],
        num_classes=case["classes"],
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_per_transform_errors_and_increases_match_a_plain_loop(seed: int) -> None:
    case = make_case(seed)
    r = report(case)
    masks = {"all": slice(None), "public": case["public"], "private": ~case["public"]}
    for part, mask in masks.items():
        labels = case["labels"][mask]
        clean1 = loop_error(case["clean"][mask], labels, 1)
        clean5 = loop_error(case["clean"][mask], labels, 5)
        assert r["clean"][part]["top1_error"] == pytest.approx(clean1, abs=1e-12)
        assert r["clean"][part]["top5_error"] == pytest.approx(clean5, abs=1e-12)
        corruption_errors = []
        for name in NAMES:
            row = r["results"][name][part]
            e1 = loop_error(case["robust"][name][mask], labels, 1)
            e5 = loop_error(case["robust"][name][mask], labels, 5)
            assert row["top1_error"] == pytest.approx(e1, abs=1e-12)
            assert row["top5_error"] == pytest.approx(e5, abs=1e-12)
            assert row["n_images"] == len(labels)
            assert row["top1_relative_increase"] == pytest.approx((e1 - clean1) / clean1)
            assert row["top5_relative_increase"] == pytest.approx((e5 - clean5) / clean5)
            if name != "hflip":
                corruption_errors.append(e1)
        summary = r["summary"][part]
        assert summary["mean_top1_error"] == pytest.approx(sum(corruption_errors) / 2)
        assert summary["relative_increase"] == pytest.approx(
            (sum(corruption_errors) / 2 - clean1) / clean1
        )
        assert summary["n_transforms"] == 2


def test_tie_free_errors_match_sklearn() -> None:
    case = make_case(5)
    case["robust"] = {name: lg for name, lg in case["robust"].items() if name == "hflip"}
    case["robust"]["noise_high"] = case["clean"] * 0.5 + 0.1  # finite, no ties
    r = report(case)
    classes = np.arange(case["classes"])
    for name, logits in case["robust"].items():
        for k in (1, 5):
            sk = top_k_accuracy_score(case["labels"], logits, k=k, labels=classes)
            assert r["results"][name]["all"][f"top{k}_error"] == pytest.approx(1 - sk)
    # A positive rescaling keeps every ranking: no increase over clean.
    assert r["results"]["noise_high"]["all"]["top1_relative_increase"] == 0.0
    assert r["summary"]["all"]["mean_top1_error"] == r["clean"]["all"]["top1_error"]


def test_the_flip_is_a_control_left_out_of_the_summary() -> None:
    case = make_case(3)
    r = report(case)
    assert r["corruptions"] == ["rotate_45", "blur_2"]
    assert [t["name"] for t in r["transforms"]] == list(NAMES)
    means = np.mean([r["results"][n]["all"]["top1_error"] for n in ("rotate_45", "blur_2")])
    assert r["summary"]["all"]["mean_top1_error"] == pytest.approx(means)
    assert "ImageNet-C" in r["summary_definition"] and "flip" in r["summary_definition"]


def test_an_empty_part_has_no_errors_and_no_summary() -> None:
    case = make_case(4)
    case["public"] = np.zeros_like(case["public"])
    r = report(case)
    assert r["results"]["blur_2"]["public"]["top1_error"] is None
    assert r["results"]["blur_2"]["public"]["top1_relative_increase"] is None
    assert r["summary"]["public"]["mean_top1_error"] is None
    assert r["summary"]["private"]["mean_top1_error"] is not None


def test_relative_increase_needs_a_clean_error() -> None:
    assert relative_increase(0.3, 0.2) == pytest.approx(0.5)
    assert relative_increase(0.1, 0.2) == pytest.approx(-0.5)
    assert relative_increase(0.3, 0.0) is None
    assert relative_increase(None, 0.2) is None

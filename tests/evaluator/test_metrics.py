"""Metrics against independent implementations: scikit-learn, torch.topk and a plain loop."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import confusion_matrix as sk_confusion
from sklearn.metrics import top_k_accuracy_score

from evaluator import metrics


def loop_correct_at_k(row: list[float], label: int, k: int) -> bool:
    """The documented rule, written as plainly as possible."""
    if any(not math.isfinite(v) for v in row):
        return False
    k = min(k, len(row))
    order = sorted(range(len(row)), key=lambda c: (-row[c], c))
    return label in order[:k]


def loop_errors(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    rows = logits.tolist()
    n = len(rows)
    e1 = sum(not loop_correct_at_k(r, int(y), 1) for r, y in zip(rows, labels, strict=True)) / n
    e5 = sum(not loop_correct_at_k(r, int(y), 5) for r, y in zip(rows, labels, strict=True)) / n
    return e1, e5


def report(logits: np.ndarray, labels: np.ndarray, public: np.ndarray | None = None) -> dict:
    if public is None:
        public = np.ones(len(labels), dtype=bool)
    return metrics.classification_report(
        logits=logits, labels=labels, public_mask=public, num_classes=logits.shape[1]
    )


@pytest.mark.parametrize("num_classes", [3, 10, 100])
def test_random_logits_match_sklearn_and_torch(num_classes: int) -> None:
    rng = np.random.default_rng(num_classes)
    n = 2000
    logits = rng.standard_normal((n, num_classes)).astype(np.float32)
    labels = rng.integers(0, num_classes, n)
    r = report(logits, labels)
    all_labels = np.arange(num_classes)
    for k, key in [(1, "top1_error"), (5, "top5_error")]:
        kk = min(k, num_classes)
        sk = top_k_accuracy_score(labels, logits, k=kk, labels=all_labels)
        assert r[key] == pytest.approx(1 - sk, abs=1e-12)
        top = torch.from_numpy(logits).topk(kk, dim=1).indices
        hits = (top == torch.from_numpy(labels)[:, None]).any(dim=1).float().mean().item()
        assert r[key] == pytest.approx(1 - hits, abs=1e-6)


def test_ties_go_to_the_lower_class_index() -> None:
    # All classes equal: the top-1 class is 0, the top-5 are 0..4.
    logits = np.zeros((7, 7), dtype=np.float32)
    labels = np.arange(7)
    r = report(logits, labels)
    assert r["top1_correct"] == 1  # only label 0
    assert r["top5_correct"] == 5  # labels 0..4
    # A tie straddling the k boundary is decided by index, the same way every time.
    logits = np.array([[5, 3, 3, 3, 3, 3, 3]], dtype=np.float32)
    assert report(logits, np.array([5]))["top5_correct"] == 0
    assert report(logits, np.array([4]))["top5_correct"] == 1


def test_adversarial_logits_match_the_plain_loop() -> None:
    rng = np.random.default_rng(7)
    n, k = 600, 12
    logits = rng.integers(-2, 3, size=(n, k)).astype(np.float32)  # many ties
    labels = rng.integers(0, k, n)
    logits[rng.random(n) < 0.05, rng.integers(0, k)] = np.nan
    logits[rng.random(n) < 0.05, rng.integers(0, k)] = np.inf
    logits[rng.random(n) < 0.05, rng.integers(0, k)] = -np.inf
    r = report(logits, labels)
    e1, e5 = loop_errors(logits, labels)
    assert r["top1_error"] == pytest.approx(e1, abs=1e-12)
    assert r["top5_error"] == pytest.approx(e5, abs=1e-12)
    assert r["n_nonfinite"] == int((~np.isfinite(logits)).any(axis=1).sum())


def test_non_finite_rows_are_wrong_even_when_the_true_class_wins() -> None:
    logits = np.array([[np.inf, 0, 0], [10.0, np.nan, 0], [10.0, 0, 0]], dtype=np.float32)
    r = report(logits, np.array([0, 0, 0]))
    assert r["top1_correct"] == 1
    assert r["top5_correct"] == 1
    assert r["n_nonfinite"] == 2


def test_k_is_clamped_to_the_number_of_classes() -> None:
    logits = np.array([[0.1, 0.9], [0.8, 0.2]], dtype=np.float32)
    r = report(logits, np.array([0, 1]))
    assert r["top1_error"] == 1.0
    assert r["top5_error"] == 0.0  # top-2 of 2 classes holds every label


def test_public_private_parts_partition_the_set() -> None:
    rng = np.random.default_rng(3)
    n, k = 1000, 10
    logits = rng.standard_normal((n, k))
    labels = rng.integers(0, k, n)
    public = rng.random(n) < 0.3
    r = report(logits, labels, public)
    assert r["public"]["n_images"] + r["private"]["n_images"] == n
    assert r["public"]["top1_correct"] + r["private"]["top1_correct"] == r["top1_correct"]
    e1_pub, _ = loop_errors(logits[public], labels[public])
    assert r["public"]["top1_error"] == pytest.approx(e1_pub)


def test_confusion_matrix_and_per_class_accuracy_match_sklearn() -> None:
    rng = np.random.default_rng(11)
    n, k = 800, 6
    logits = rng.standard_normal((n, k))
    labels = rng.integers(0, k, n)
    r = report(logits, labels)
    expected = sk_confusion(labels, logits.argmax(axis=1), labels=np.arange(k))
    assert np.array_equal(np.array(r["confusion_matrix"]), expected)
    per_class = expected.diagonal() / expected.sum(axis=1)
    assert np.allclose(r["per_class_accuracy"], per_class)


def test_bootstrap_interval_matches_a_resampling_loop() -> None:
    rng = np.random.default_rng(5)
    wrong = rng.random(400) < 0.2
    ours = metrics.bootstrap_interval(n_wrong=int(wrong.sum()), n=len(wrong), seed=1)
    resampled = [wrong[rng.integers(0, len(wrong), len(wrong))].mean() for _ in range(4000)]
    lo, hi = np.percentile(resampled, [2.5, 97.5])
    assert ours[0] == pytest.approx(lo, abs=0.01)
    assert ours[1] == pytest.approx(hi, abs=0.01)
    assert ours[0] < wrong.mean() < ours[1]


def test_report_is_deterministic() -> None:
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((300, 10))
    labels = rng.integers(0, 10, 300)
    assert report(logits, labels) == report(logits, labels)

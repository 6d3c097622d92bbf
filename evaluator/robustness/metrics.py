"""Robustness metrics, computed by the trusted parent from the logits of each transformed copy.

Per transform and per part of the set (all, public, private): ILSVRC's top-1 and top-5 error
(``evaluator.metrics``, the same rules as the clean score: ties to the lower class index,
non-finite rows wrong, k clamped), and the relative increase over the clean error,
(error - clean error) / clean error. The summary is the mean top-1 error over the corruptions,
controls (the flip) excluded, after ImageNet-C's mean corruption error (Hendrycks & Dietterich,
ICLR 2019) without its normalisation by AlexNet; with it the mean top-5 error and the relative
increase of the mean over the clean top-1 error.
"""

from __future__ import annotations

import numpy as np

from evaluator import robustness
from evaluator.metrics import part_metrics, true_class_rank

PARTS = ("all", "public", "private")
REPORT_VERSION = 1


def relative_increase(error: float | None, clean: float | None) -> float | None:
    """(error - clean) / clean; None where either is missing or the clean error is zero."""
    if error is None or clean is None or clean == 0:
        return None
    return (error - clean) / clean


def _masks(public_mask: np.ndarray) -> dict[str, np.ndarray]:
    public_mask = np.asarray(public_mask, dtype=bool)
    return {"all": np.ones_like(public_mask), "public": public_mask, "private": ~public_mask}


def _mean(values: list[float | None]) -> float | None:
    """The mean, or None when there is nothing to average or any value is missing."""
    if not values or any(v is None for v in values):
        return None
    return float(np.mean(values))


def robustness_report(
    *,
    clean_ranks: np.ndarray,
    robust_ranks: dict[str, np.ndarray],
    public_mask: np.ndarray,
    num_classes: int,
    seed: int = 0,
) -> dict:
    """The "robustness" part of a score's record, from true-class ranks (``true_class_rank``).

    Ranks, not logits: the parent turns each transform's logits into ranks as they arrive, so
    it never holds more than one transform's logits at a time.
    """
    masks = _masks(public_mask)
    clean = {
        part: part_metrics(clean_ranks[mask], num_classes=num_classes, seed=seed).to_dict()
        for part, mask in masks.items()
    }
    results: dict[str, dict] = {}
    for name, ranks in robust_ranks.items():
        results[name] = {}
        for part, mask in masks.items():
            metrics = part_metrics(ranks[mask], num_classes=num_classes, seed=seed).to_dict()
            for k in ("top1", "top5"):
                metrics[f"{k}_relative_increase"] = relative_increase(
                    metrics[f"{k}_error"], clean[part][f"{k}_error"]
                )
            results[name][part] = metrics
    corruptions = [n for n in robust_ranks if not robustness.get(n).control]
    summary = {}
    for part in PARTS:
        mean1 = _mean([results[n][part]["top1_error"] for n in corruptions])
        mean5 = _mean([results[n][part]["top5_error"] for n in corruptions])
        summary[part] = {
            "mean_top1_error": mean1,
            "mean_top5_error": mean5,
            "relative_increase": relative_increase(mean1, clean[part]["top1_error"]),
            "n_transforms": len(corruptions),
        }
    return {
        "report_version": REPORT_VERSION,
        "summary_definition": (
            "mean top-1 error over the corruption transforms; the horizontal flip is a control "
            "and is excluded (after ImageNet-C's mean corruption error, Hendrycks & Dietterich, "
            "ICLR 2019, without the AlexNet normalisation)"
        ),
        "transforms": robustness.catalogue(tuple(robust_ranks)),
        "corruptions": corruptions,
        "clean": clean,
        "results": results,
        "summary": summary,
    }


def robustness_report_from_logits(
    *,
    clean_logits: np.ndarray,
    robust_logits: dict[str, np.ndarray],
    labels: np.ndarray,
    public_mask: np.ndarray,
    num_classes: int,
    seed: int = 0,
) -> dict:
    """``robustness_report`` from whole logit arrays (tests, notebooks, in-process use)."""
    return robustness_report(
        clean_ranks=true_class_rank(clean_logits, labels),
        robust_ranks={name: true_class_rank(lg, labels) for name, lg in robust_logits.items()},
        public_mask=public_mask,
        num_classes=num_classes,
        seed=seed,
    )

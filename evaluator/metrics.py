"""ILSVRC's classification metrics, computed by the trusted parent from returned logits.

Rules (also in the README):
- An image is correct at k when its label is among the k highest-scoring classes.
- Ties are broken by class index: among equal scores the lower index ranks higher. So the rank
  of the true class is (#classes scoring strictly higher) + (#classes scoring equal with a lower
  index), and the image is correct at k when that rank is below k.
- A row holding any NaN or infinity is wrong at every k.
- k is clamped to the number of classes.
- The balanced (mean per-class) error is 1 - the mean of the classes' top-1 recalls, over the
  classes present in that part: each class weighs the same, however many images it has.
- The 95% interval is the percentile bootstrap over images. Resampling N images with replacement
  and counting the wrong ones is exactly a Binomial(N, observed error) draw, so it is sampled as
  such: the same distribution as the resampling loop, at a fraction of the cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BOOTSTRAP_SAMPLES = 10_000
CONFUSION_MAX_CLASSES = 100  # larger matrices are left out of the stored record
_CHUNK = 8192


def true_class_rank(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Rank (0 = best) of each image's true class, ties to the lower class index.

    Rows with a non-finite value get rank = number of classes (wrong at every k).
    """
    n, k = logits.shape
    ranks = np.empty(n, dtype=np.int64)
    classes = np.arange(k)
    for lo in range(0, n, _CHUNK):
        block = logits[lo : lo + _CHUNK]
        lab = labels[lo : lo + _CHUNK]
        true = block[np.arange(len(block)), lab][:, None]
        higher = (block > true).sum(axis=1)
        tied_before = ((block == true) & (classes[None, :] < lab[:, None])).sum(axis=1)
        rank = higher + tied_before
        rank[~np.isfinite(block).all(axis=1)] = k
        ranks[lo : lo + _CHUNK] = rank
    return ranks


def predictions(logits: np.ndarray) -> np.ndarray:
    """Top-1 class per row (lowest index among ties); -1 for a non-finite row."""
    pred = np.argmax(np.where(np.isfinite(logits), logits, -np.inf), axis=1)
    pred[~np.isfinite(logits).all(axis=1)] = -1
    return pred


def bootstrap_interval(
    *, n_wrong: int, n: int, seed: int = 0, samples: int = BOOTSTRAP_SAMPLES
) -> list[float | None]:
    """Percentile bootstrap 95% interval of an error rate (see module docstring)."""
    if n == 0:
        return [None, None]  # an empty part has no error rate (and JSON has no NaN)
    draws = np.random.default_rng(seed).binomial(n, n_wrong / n, size=samples) / n
    lo, hi = np.percentile(draws, [2.5, 97.5])
    return [float(lo), float(hi)]


@dataclass
class PartMetrics:
    n_images: int
    top1_correct: int
    top5_correct: int
    top1_error: float | None
    top5_error: float | None
    ci95: dict[str, list[float | None]]

    def to_dict(self) -> dict:
        return {
            "n_images": self.n_images,
            "top1_correct": self.top1_correct,
            "top5_correct": self.top5_correct,
            "top1_error": self.top1_error,
            "top5_error": self.top5_error,
            "ci95": self.ci95,
        }


def part_metrics(ranks: np.ndarray, *, num_classes: int, seed: int = 0) -> PartMetrics:
    """Top-1/top-5 error over the images whose true-class ranks are given."""
    n = len(ranks)
    k5 = min(5, num_classes)
    c1 = int((ranks < 1).sum())
    c5 = int((ranks < k5).sum())

    def err(correct: int) -> float | None:
        return (n - correct) / n if n else None

    return PartMetrics(
        n_images=n,
        top1_correct=c1,
        top5_correct=c5,
        top1_error=err(c1),
        top5_error=err(c5),
        ci95={
            "top1_error": bootstrap_interval(n_wrong=n - c1, n=n, seed=seed),
            "top5_error": bootstrap_interval(n_wrong=n - c5, n=n, seed=seed + 1),
        },
    )


def confusion_matrix(labels: np.ndarray, pred: np.ndarray, *, num_classes: int) -> np.ndarray:
    """Counts of (true, predicted); non-finite rows (pred -1) are left out and reported apart."""
    ok = pred >= 0
    flat = labels[ok] * num_classes + pred[ok]
    return np.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def per_class_accuracy(labels: np.ndarray, ranks: np.ndarray, *, num_classes: int) -> list:
    """Top-1 accuracy of each class (None for a class with no images)."""
    totals = np.bincount(labels, minlength=num_classes)
    hits = np.bincount(labels[ranks < 1], minlength=num_classes)
    return [float(h / t) if t else None for h, t in zip(hits, totals, strict=True)]


def balanced_error(labels: np.ndarray, ranks: np.ndarray, *, num_classes: int) -> float | None:
    """1 - the mean over classes of each class's top-1 recall, over the classes present (None
    without images): every class weighs the same, however many images it has. scikit-learn's
    1 - ``balanced_accuracy_score``, under this module's tie and non-finite rules."""
    totals = np.bincount(labels, minlength=num_classes)
    hits = np.bincount(labels[ranks < 1], minlength=num_classes)
    present = totals > 0
    if not present.any():
        return None
    return float(1.0 - (hits[present] / totals[present]).mean())


def classification_report(
    *,
    logits: np.ndarray,
    labels: np.ndarray,
    public_mask: np.ndarray,
    num_classes: int,
    seed: int = 0,
) -> dict:
    """Everything the platform stores about a score: all / public / private parts and per class."""
    if logits.shape != (len(labels), num_classes):
        raise ValueError(f"logits shape {logits.shape} != ({len(labels)}, {num_classes})")
    ranks = true_class_rank(logits, labels)
    pred = predictions(logits)
    whole, public, private = (
        {
            **part_metrics(ranks[mask], num_classes=num_classes, seed=seed).to_dict(),
            "balanced_error": balanced_error(labels[mask], ranks[mask], num_classes=num_classes),
        }
        for mask in (slice(None), public_mask, ~public_mask)
    )
    report = {
        **whole,
        "public": public,
        "private": private,
        "n_nonfinite": int((pred < 0).sum()),
        "num_classes": num_classes,
        "per_class_accuracy": per_class_accuracy(labels, ranks, num_classes=num_classes),
        "public_per_class_accuracy": per_class_accuracy(
            labels[public_mask], ranks[public_mask], num_classes=num_classes
        ),
    }
    if num_classes <= CONFUSION_MAX_CLASSES:
        report["confusion_matrix"] = confusion_matrix(
            labels, pred, num_classes=num_classes
        ).tolist()
        report["public_confusion_matrix"] = confusion_matrix(
            labels[public_mask], pred[public_mask], num_classes=num_classes
        ).tolist()
    return report

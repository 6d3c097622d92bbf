"""The balanced (mean per-class) error against scikit-learn's ``balanced_accuracy_score``, on the
predictions of a model trained on scikit-learn's digits."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score

from evaluator import metrics


@pytest.fixture(scope="module")
def digits_logits() -> tuple[np.ndarray, np.ndarray]:
    """A logistic regression fitted to 1,000 digits, its logits on the other 797, made uneven:
    classes 0-4 keep every image, classes 5-9 one in four (the balanced error then weighs a
    rare class's mistakes more than the top-1 error does)."""
    digits = load_digits()
    x, y = digits.data / 16.0, digits.target
    model = LogisticRegression(C=0.05, max_iter=2000).fit(x[:1000], y[:1000])
    x_test, y_test = x[1000:], y[1000:]
    keep = (y_test < 5) | (np.arange(len(y_test)) % 4 == 0)
    return model.decision_function(x_test[keep]).astype(np.float32), y_test[keep]


def sklearn_balanced_error(labels: np.ndarray, logits: np.ndarray) -> float:
    """scikit-learn on the argmax (a non-finite row predicts -1: wrong)."""
    with warnings.catch_warnings():
        # A class predicted but absent from the part is left out, as ours leaves it out.
        warnings.filterwarnings("ignore", "y_pred contains classes not in y_true")
        return 1.0 - balanced_accuracy_score(labels, metrics.predictions(logits))


def test_every_part_matches_sklearn_on_a_trained_model(digits_logits):
    logits, labels = digits_logits
    rng = np.random.default_rng(0)
    public = rng.random(len(labels)) < 0.5
    public[labels == 9] = False  # a class the public part does not have

    report = metrics.classification_report(
        logits=logits, labels=labels, public_mask=public, num_classes=10
    )

    for got, mask in [
        (report["balanced_error"], np.ones(len(labels), dtype=bool)),
        (report["public"]["balanced_error"], public),
        (report["private"]["balanced_error"], ~public),
    ]:
        assert got == pytest.approx(sklearn_balanced_error(labels[mask], logits[mask]), abs=1e-12)
    assert 0.01 < report["balanced_error"] < 0.5  # a real model: neither perfect nor chance
    assert report["balanced_error"] != pytest.approx(report["top1_error"], abs=1e-4)
    # Its mean per-class recall is the per-class accuracy the report already stores.
    present = [a for a in report["per_class_accuracy"] if a is not None]
    assert report["balanced_error"] == pytest.approx(1 - np.mean(present), abs=1e-12)


def test_non_finite_rows_are_wrong_and_an_empty_part_has_none(digits_logits):
    logits, labels = digits_logits
    logits = logits.copy()
    logits[:7, 0] = np.nan
    everything = np.ones(len(labels), dtype=bool)

    report = metrics.classification_report(
        logits=logits, labels=labels, public_mask=everything, num_classes=10
    )

    assert report["balanced_error"] == pytest.approx(
        sklearn_balanced_error(labels, logits), abs=1e-12
    )
    assert report["private"]["balanced_error"] is None  # no images, no error

"""What a model check tells the student, built on the trusted side from checked logits.

The guesses are drawn as the insights panel draws them (``evaluator.insights.panels``: softmax
in float64 here, ties to the lower class index) and the true class's rank comes from the
scoring metrics' own rule (``evaluator.metrics.true_class_rank``), so a check never disagrees
with the score the same logits would get.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaluator.insights.panels import TOP_K, softmax, top_k
from evaluator.metrics import true_class_rank

CHECK_VERSION = 1


@dataclass(frozen=True)
class Guess:
    """One of a sample's top-k classes, with its softmax probability."""

    class_index: int
    class_name: str
    probability: float


@dataclass(frozen=True)
class SampleCheck:
    """One public sample: its true class, the model's top-k guesses, the true class's place.

    ``guesses`` is empty and ``true_probability`` None for a row holding NaN or infinity
    (scoring counts such a row wrong: ``true_rank`` is then the number of classes).
    """

    label: int
    label_name: str
    guesses: tuple[Guess, ...]
    true_probability: float | None
    true_rank: int  # 0 = the top guess

    def to_dict(self) -> dict:
        return {
            "label": self.label,
            "label_name": self.label_name,
            "guesses": [
                {"class": g.class_index, "name": g.class_name, "prob": g.probability}
                for g in self.guesses
            ],
            "true_prob": self.true_probability,
            "true_rank": self.true_rank,
        }


@dataclass(frozen=True)
class CheckReport:
    """The outcome of one check. ``ok`` says a scored run would have gone through.

    ``error_code`` and ``error_message`` are exactly what a scored submission of the same file
    would have got for the same failure. ``loads`` is None where the run stopped without saying
    whether the model had loaded (a timeout, a crash, a memory blow-up). ``seconds_per_image``
    is the parent's own clock over the whole run (sandbox start and loading included) divided
    by the number of samples: an upper bound, never the model's word about itself.
    """

    format: str | None
    format_recognised: bool
    loads: bool | None
    expected_shape: tuple[int, int]
    output_shape: tuple[int, ...] | None = None
    samples: tuple[SampleCheck, ...] = ()
    nonfinite_rows: int | None = None
    seconds_per_image: float | None = None
    wall_seconds: float | None = None
    sandbox: str | None = None
    error_code: str | None = None
    error_message: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_code is None

    def to_dict(self) -> dict:
        """A JSON-serialisable dict, for the site and the command line."""
        return {
            "version": CHECK_VERSION,
            "ok": self.ok,
            "format": self.format,
            "format_recognised": self.format_recognised,
            "loads": self.loads,
            "output_shape": None if self.output_shape is None else list(self.output_shape),
            "expected_shape": list(self.expected_shape),
            "samples": [sample.to_dict() for sample in self.samples],
            "nonfinite_rows": self.nonfinite_rows,
            "seconds_per_image": self.seconds_per_image,
            "wall_seconds": self.wall_seconds,
            "sandbox": self.sandbox,
            "error_code": self.error_code,
            "error_message": self.error_message,
        }


def sample_checks(
    *, logits: np.ndarray, labels: np.ndarray, class_names: list[str]
) -> tuple[SampleCheck, ...]:
    """Each sample's top-k guesses from checked float logits of shape (N, classes)."""
    probs = softmax(logits)
    ranks = true_class_rank(logits, labels)
    k = min(TOP_K, len(class_names))
    checks = []
    for i, label in enumerate(int(v) for v in labels):
        finite = bool(np.isfinite(probs[i]).all())
        guesses = tuple(
            Guess(class_index=c, class_name=class_names[c], probability=float(probs[i, c]))
            for c in (top_k(probs[i], k) if finite else [])
        )
        checks.append(
            SampleCheck(
                label=label,
                label_name=class_names[label],
                guesses=guesses,
                true_probability=float(probs[i, label]) if finite else None,
                true_rank=int(ranks[i]),
            )
        )
    return tuple(checks)

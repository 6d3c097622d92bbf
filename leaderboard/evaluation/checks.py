"""A model check: the participant's file run as scoring runs it, on public sample images only.

The evaluator is imported inside each function, so torch stays out of the web process.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from leaderboard.evaluation.config import ScoringConfig

# A check runs on a few dozen images: past this, something is wrong with the model, and a
# check should never hold a worker as long as a scored run may.
CHECK_TIMEOUT_S = 120.0


def check_model(
    *,
    model_path: Path,
    arch: str | None,
    precision: str,
    images: np.ndarray,
    labels: Sequence[int],
    class_names: Sequence[str],
    spec: dict,
    config: ScoringConfig,
) -> dict:
    """The check's report (``CheckReport.to_dict``); the model's own failure is in the report,
    a platform fault (no sandbox, a damaged sample set) raises, as it does in scoring."""
    from evaluator.check import check_model as run_check
    from evaluator.spec import InputSpec

    report = run_check(
        model_path=Path(model_path),
        arch=arch or None,
        samples=images,
        labels=list(labels),
        class_names=list(class_names),
        spec=InputSpec.from_dict(spec),
        num_classes=len(class_names),
        precision=precision,
        batch_size=config.batch_size,
        **config.sandbox(timeout_s=check_timeout_s(config)),
    )
    return report.to_dict()


def check_timeout_s(config: ScoringConfig) -> float:
    """The scoring limit, capped: the samples are far fewer than the hidden set's images."""
    return min(config.timeout_s, CHECK_TIMEOUT_S)


def check_sample_limit() -> int:
    """How many sample images a check runs on at most (the evaluator's own cap)."""
    from evaluator.check.run import MAX_SAMPLES

    return MAX_SAMPLES

"""Every run of an untrusted model that the site asks for, each one call into the evaluator.

The evaluator is imported inside each function, so torch stays out of processes (the web
server, the enqueuing side) that never run a model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from leaderboard.evaluation.config import ScoringConfig
from leaderboard.evaluation.jobs import MergeJob, ScoringJob, ShardJob


def score(job: ScoringJob, *, config: ScoringConfig) -> dict:
    """The attempt's clean result (the robustness track's copies are a run of their own,
    ``score_robustness``, so that the clean score is on the board first). Raises the
    evaluator's errors."""
    from evaluator import scoring

    return _whole_set(scoring.score, job, config=config, timeout_s=None)


def score_robustness(job: ScoringJob, *, config: ScoringConfig, timeout_s: float) -> dict:
    """The robustness track's run: the clean set again (the baseline of each copy's increase,
    from the same child), then every transformed copy, within ``timeout_s`` together. Raises
    the evaluator's errors."""
    from evaluator import robustness

    return _whole_set(robustness.score_robust, job, config=config, timeout_s=timeout_s)


def _whole_set(run, job: ScoringJob, *, config: ScoringConfig, timeout_s: float | None) -> dict:
    return run(
        dataset_dir=job.dataset_dir,
        model_path=job.model_path,
        arch=job.arch,
        precision=job.precision,
        batch_size=config.batch_size,
        **config.sandbox(timeout_s=timeout_s),
    )


def score_shard(job: ShardJob, *, config: ScoringConfig) -> dict:
    """The slice's run report; a slice already on disk (a lost worker's) is read, not re-run."""
    from evaluator import shards

    if shards.shard_done(directory=job.directory, index=job.index):
        return shards.read_info(directory=job.directory, index=job.index)
    return shards.score_shard(
        dataset_dir=job.dataset_dir,
        model_path=job.model_path,
        arch=job.arch,
        span=job.span,
        index=job.index,
        directory=job.directory,
        precision=job.precision,
        batch_size=config.batch_size,
        **config.sandbox(),
    )


def merge_shards(job: MergeJob, *, config: ScoringConfig) -> dict:
    """The result one whole run would have given, from the slices' files."""
    from evaluator import shards

    return shards.merge_shards(
        dataset_dir=job.scoring.dataset_dir,
        model_path=job.scoring.model_path,
        arch=job.scoring.arch,
        spans=job.spans,
        directory=job.directory,
        device=config.device,
        precision=job.scoring.precision,
    )


def insights(
    job: ScoringJob,
    *,
    images: np.ndarray,
    labels: Sequence[int],
    class_names: Sequence[str],
    spec: dict,
    config: ScoringConfig,
    model_format: str | None = None,
) -> dict:
    """The "what the network sees" panels on public sample images; never the hidden set.

    ``model_format``: the format the scoring run detected (its record's ``format``), so the
    file is not detected a second time.
    """
    from evaluator.insights import compute_insights
    from evaluator.spec import InputSpec

    return compute_insights(
        model_path=job.model_path,
        arch=job.arch,
        samples=images,
        labels=list(labels),
        class_names=list(class_names),
        spec=InputSpec.from_dict(spec),
        precision=job.precision,
        model_format=model_format,
        **config.sandbox(timeout_s=config.insights_timeout_s),
    )


def insight_sample_limit() -> int:
    """How many sample images the panels use (AlexNet's figure shows eight)."""
    from evaluator.insights import MAX_SAMPLES

    return MAX_SAMPLES

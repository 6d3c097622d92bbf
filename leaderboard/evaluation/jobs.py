"""What a worker needs to run one model: plain values, no ORM objects, no Django."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from evaluator.shards import Span


@dataclass(frozen=True)
class ScoringJob:
    """Everything a worker needs to score one attempt."""

    submission_id: str
    attempt: int
    dataset_dir: Path
    model_path: Path
    arch: str | None
    precision: str
    robustness: bool = False  # also score the transformed copies (the robustness track)


@dataclass(frozen=True)
class ShardJob:
    """Everything a worker needs to score one claimed slice of a large set."""

    shard_id: int
    submission_id: str
    attempt: int
    index: int
    span: Span
    claim: int
    dataset_dir: Path
    model_path: Path
    arch: str | None
    precision: str
    directory: Path


@dataclass(frozen=True)
class MergeJob:
    """A sharded attempt whose slices are all done: where their files are, and in what order."""

    scoring: ScoringJob
    spans: tuple[Span, ...]
    directory: Path

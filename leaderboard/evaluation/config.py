"""The scoring settings, read from Django's settings in one place into one typed value.

Every call into the evaluator takes its limits from a ``ScoringConfig``, so a new limit is one
field here rather than one more keyword copied into each task.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class ScoringConfig:
    """How a worker runs an untrusted model: device, limits and whether a sandbox is required."""

    device: str
    timeout_s: float  # the model's own limit: past it, a "timeout" that counts against the team
    memory_mb: int | None
    pids_max: int | None
    batch_size: int
    require_sandbox: bool
    insights_timeout_s: float  # 0 turns the "what the network sees" panels off
    task_soft_limit_s: float  # Celery's limit, above the model's: past it, the worker hung

    @classmethod
    def from_settings(cls) -> ScoringConfig:
        """Read at call time, so a worker and a test see the settings in force now."""
        return cls(
            device=settings.SCORING_DEVICE,
            timeout_s=float(settings.SCORING_TIMEOUT_S),
            memory_mb=settings.SCORING_MEMORY_MB,
            pids_max=settings.SCORING_PIDS_MAX,
            batch_size=int(settings.SCORING_BATCH_SIZE),
            require_sandbox=bool(settings.SCORING_REQUIRE_SANDBOX),
            insights_timeout_s=float(settings.INSIGHTS_TIMEOUT_S),
            task_soft_limit_s=float(settings.CELERY_TASK_SOFT_TIME_LIMIT),
        )

    @property
    def insights_on(self) -> bool:
        return self.insights_timeout_s > 0

    def sandbox(self, *, timeout_s: float | None = None) -> dict:
        """The launcher's keywords that every sandboxed phase shares."""
        return {
            "device": self.device,
            "timeout_s": self.timeout_s if timeout_s is None else timeout_s,
            "memory_mb": self.memory_mb,
            "pids_max": self.pids_max,
            "require_sandbox": self.require_sandbox,
        }

"""Running a free model check on a worker of the ``default`` queue: claim, run, record, clean.

The model runs through the evaluator's ``check_model`` (scoring's own launcher and checks, on
the challenge's public sample images only), so its failure is in the report with the code and
message a scored submission would get. Only a fault of the platform fails the check itself.
The uploaded file is deleted whatever happened: checks are not kept.
"""

from __future__ import annotations

import logging
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded

from leaderboard import services
from leaderboard.evaluation import ScoringConfig, checks
from leaderboard.models import ModelCheck
from leaderboard.selectors.insights import challenge_samples
from leaderboard.services.checks import NO_SAMPLES

logger = logging.getLogger(__name__)
TIME_LIMIT_MESSAGE = (
    "The check was stopped by the worker's time limit before the model finished. "
    "It does not count against your checks; please try again."
)


def check_model(*, check_id: str) -> str:
    """Run one queued check; returns "done", "failed" or "skipped" (not queued any more)."""
    check = services.model_check_start(check_id=check_id)
    if check is None:
        return "skipped"
    try:
        return _run(check)
    finally:
        services.model_check_file_delete(check_id=check.pk)


def _run(check: ModelCheck) -> str:
    challenge = check.edition.challenge
    samples = challenge_samples(challenge=challenge, limit=checks.check_sample_limit())
    if samples is None:  # removed since the upload, or none of the challenge's size
        services.model_check_fail(check_id=check.pk, message=NO_SAMPLES)
        return "failed"
    try:
        report = checks.check_model(
            model_path=Path(check.file.path),
            arch=check.arch,
            precision=challenge.precision,
            images=samples.images,
            labels=samples.labels,
            class_names=samples.class_names,
            spec=samples.spec,
            config=ScoringConfig.from_settings(),
        )
    except SoftTimeLimitExceeded:
        services.model_check_fail(check_id=check.pk, message=TIME_LIMIT_MESSAGE)
        return "failed"
    except Exception as exc:
        logger.exception("model check %s failed on the worker", check.pk)
        services.model_check_fail(check_id=check.pk, message=_platform_message(exc))
        return "failed"
    report["sample_ids"] = samples.sample_ids  # which image each sample row is, for the page
    services.model_check_finish(check_id=check.pk, report=report)
    return "done"


def _platform_message(exc: Exception) -> str:
    code = getattr(exc, "code", "platform_error")
    return (
        f"The check could not run because of a problem on the platform ({code}), not because "
        "of your model. It does not count against your checks; please try again later."
    )

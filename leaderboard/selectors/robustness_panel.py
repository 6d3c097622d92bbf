"""A submission page's robustness panel: its stored results shaped for the chart and the table.

The page's own rule applies: the public part of the hidden set while the edition runs, all of
it once it has closed. The sample strip is the challenge's (one public training-split image under
every transform), never a hidden image.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import reverse

from leaderboard.models import RANKED_MODERATION, Challenge, Edition, RobustnessRun, Submission


@dataclass(frozen=True)
class TransformRow:
    name: str
    label: str
    group: str
    description: str
    control: bool
    top1: float | None
    top5: float | None
    top1_increase: float | None  # relative to the clean top-1 error
    top5_increase: float | None
    sample_url: str | None = None


@dataclass(frozen=True)
class RobustnessPanel:
    part: str  # "public" or "all"
    n_images: int
    clean_top1: float | None
    clean_top5: float | None
    mean_top1: float | None  # the summary: mean over the corruptions, the flip excluded
    mean_top5: float | None
    relative_increase: float | None
    n_corruptions: int
    rows: list[TransformRow] = field(default_factory=list)
    clean_sample_url: str | None = None
    sample_label: str = ""
    definition: str = ""


def submission_robustness(
    *, record: dict, challenge: Challenge, show_private: bool
) -> RobustnessPanel | None:
    """The panel, or None when the score has no robustness part (the track was off)."""
    robust = record.get("robustness")
    if not isinstance(robust, dict) or not isinstance(robust.get("results"), dict):
        return None
    part = "all" if show_private else "public"
    clean = (robust.get("clean") or {}).get(part) or {}
    summary = (robust.get("summary") or {}).get(part) or {}
    samples = challenge.robustness_samples or {}
    stored = samples.get("images") or {}

    def url(name: str) -> str | None:
        if name not in stored:
            return None
        return reverse("robustness_sample", kwargs={"slug": challenge.slug, "name": name})

    rows = []
    for transform in robust.get("transforms") or []:
        result = (robust["results"].get(transform["name"]) or {}).get(part) or {}
        rows.append(
            TransformRow(
                name=transform["name"],
                label=transform["label"],
                group=transform["group"],
                description=transform["description"],
                control=bool(transform.get("control")),
                top1=result.get("top1_error"),
                top5=result.get("top5_error"),
                top1_increase=result.get("top1_relative_increase"),
                top5_increase=result.get("top5_relative_increase"),
                sample_url=url(transform["name"]),
            )
        )
    return RobustnessPanel(
        part=part,
        n_images=int(clean.get("n_images") or 0),
        clean_top1=clean.get("top1_error"),
        clean_top5=clean.get("top5_error"),
        mean_top1=summary.get("mean_top1_error"),
        mean_top5=summary.get("mean_top5_error"),
        relative_increase=summary.get("relative_increase"),
        n_corruptions=int(summary.get("n_transforms") or 0),
        rows=rows,
        clean_sample_url=url("clean"),
        sample_label=str(samples.get("label_name") or ""),
        definition=str(robust.get("summary_definition") or ""),
    )


def robustness_run_of(*, submission: Submission) -> RobustnessRun | None:
    """The track's run of the entry's current score, if the track measures it separately."""
    return RobustnessRun.objects.filter(submission=submission).first()


def robustness_runs_waiting(*, edition: Edition) -> int:
    """How many of the edition's scored entries wait for their robustness run (not hidden)."""
    return RobustnessRun.objects.filter(
        submission__edition=edition,
        submission__status=Submission.Status.SCORED,
        submission__moderation__in=RANKED_MODERATION,
        status__in=(RobustnessRun.Status.PENDING, RobustnessRun.Status.RUNNING),
    ).count()

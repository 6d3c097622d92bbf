"""Shapes of the API's answers and of the upload form; read-only except ``SubmissionCreate``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from leaderboard.metrics import METRICS, Metric, RankedMetric
from leaderboard.models import Challenge, Edition, ReferenceResult, RobustnessRun, Submission

from . import results

FRACTION = "A fraction from 0 to 1 (0.0956 is 9.56%), as in the CSV files."


def metric_fields(
    source: Callable[[RankedMetric], str], name: Callable[[RankedMetric], str] | None = None
) -> dict[str, serializers.Field]:
    """One nullable number per registered metric (``leaderboard.metrics``), named after its
    Score column (``top5_error``, ``balanced_error``...) and read from ``source(metric)``: a
    fraction, as stored (the pages print it as a percentage)."""
    fields = {}
    for m in METRICS:
        field_name = name(m) if name else m.field
        given = {} if source(m) == field_name else {"source": source(m)}  # DRF refuses the same
        fields[field_name] = serializers.FloatField(
            allow_null=True, read_only=True, help_text=f"{m.description} {FRACTION}", **given
        )
    return fields


class ErrorSerializer(serializers.Serializer):
    """The body of every error response."""

    code = serializers.CharField(help_text="Stable: clients may branch on it.")
    message = serializers.CharField(help_text="What went wrong and what to do, for people.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Per-field problems (validation errors).",
    )
    reason = serializers.CharField(required=False, help_text="The narrower code, where one exists.")
    retry_after = serializers.IntegerField(required=False, help_text="Seconds (when throttled).")


class EditionSerializer(serializers.ModelSerializer):
    challenge = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    name = serializers.SerializerMethodField(help_text='e.g. "Fashion-MNIST 2025".')
    display_name = serializers.CharField(
        read_only=True,
        help_text='As the site names the edition: its title, else its name ("Fashion-MNIST 2025").',
    )
    state = serializers.SerializerMethodField(help_text="upcoming, open or closed.")
    url = serializers.SerializerMethodField(help_text="The leaderboard page on the site.")
    leaderboard = serializers.SerializerMethodField(help_text="The leaderboard in the API.")

    class Meta:
        model = Edition
        fields = [
            "challenge",
            "slug",
            "year",
            "name",
            "title",
            "display_name",
            "state",
            "opens_at",
            "closes_at",
            "daily_limit",
            "total_limit",
            "max_upload_mb",
            "url",
            "leaderboard",
        ]

    def get_name(self, edition: Edition) -> str:
        return str(edition)

    def get_state(self, edition: Edition) -> str:
        if edition.is_closed():
            return "closed"
        return "open" if edition.is_open() else "upcoming"

    def get_url(self, edition: Edition) -> str:
        return _absolute(self, edition.get_absolute_url())

    def get_leaderboard(self, edition: Edition) -> str:
        path = reverse("api:leaderboard", args=[edition.challenge.slug, edition.slug])
        return _absolute(self, path)


class ChallengeSerializer(serializers.ModelSerializer):
    editions = EditionSerializer(many=True, read_only=True)
    num_classes = serializers.IntegerField(read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Challenge
        fields = [
            "slug",
            "title",
            "description",
            "primary_metric",
            "n_test_images",
            "num_classes",
            "class_names",
            "input_spec",
            "url",
            "editions",
        ]

    def get_url(self, challenge: Challenge) -> str:
        return _absolute(self, challenge.get_absolute_url())


class LeaderboardRowSerializer(serializers.Serializer):
    """One row of ``selectors.leaderboard_rows``: a team's best entry, or a baseline."""

    position = serializers.IntegerField(help_text="Rank among teams (among baselines for one).")
    is_baseline = serializers.BooleanField()
    team = serializers.CharField(source="team_name", allow_null=True)
    method_name = serializers.CharField()
    method_year = serializers.IntegerField(allow_null=True)
    arch = serializers.CharField()
    format = serializers.CharField()
    images = serializers.IntegerField(source="scored_images")
    entries = serializers.IntegerField(source="team_entries")
    submitted_at = serializers.DateTimeField(source="created_at")

    def get_fields(self) -> dict[str, serializers.Field]:
        # Each metric in the board's phase; null where the entry has none (the robust error
        # where it was not scored for robustness, a metric added after it was scored).
        return {**super().get_fields(), **metric_fields(lambda m: m.alias)}


class LeaderboardPageSerializer(serializers.Serializer):
    challenge = serializers.CharField()
    edition = serializers.CharField()
    year = serializers.IntegerField()
    phase = serializers.ChoiceField(
        choices=["public", "private"],
        help_text="The part of the hidden set that ranks: public while open, private after.",
    )
    metric = serializers.ChoiceField(choices=Metric.values, help_text="What ranks.")
    frozen_at = serializers.DateTimeField(
        allow_null=True,
        help_text=(
            "Set while the host has frozen the public board: the standings are as at this "
            "time until the edition closes. Null otherwise."
        ),
    )
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = LeaderboardRowSerializer(many=True)


class ShownErrorsSerializer(serializers.Serializer):
    """Every metric on the part that ranks the edition now (null until scored)."""

    phase = serializers.ChoiceField(choices=["public", "private"], allow_null=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        return {**super().get_fields(), **metric_fields(lambda m: m.field)}


class ResultPartSerializer(serializers.Serializer):
    part = serializers.ChoiceField(choices=["public", "private", "all"])
    n_images = serializers.IntegerField()

    def get_fields(self) -> dict[str, serializers.Field]:
        return {**super().get_fields(), **metric_fields(lambda m: m.field)}


class ClassAccuracySerializer(serializers.Serializer):
    class_name = serializers.CharField()
    accuracy = serializers.FloatField(allow_null=True)


class ConfusionSerializer(serializers.Serializer):
    class_names = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()))


class ResultSerializer(serializers.Serializer):
    parts = ResultPartSerializer(many=True)
    per_class_accuracy = ClassAccuracySerializer(many=True)
    confusion_matrix = ConfusionSerializer(allow_null=True)
    record = serializers.DictField(help_text="Reproducibility record (model hash, versions...).")
    versions = serializers.DictField(child=serializers.CharField())


class SubmissionSerializer(serializers.ModelSerializer):
    """A submission's status and the errors its team may see now."""

    challenge = serializers.CharField(source="edition.challenge.slug")
    edition = serializers.CharField(source="edition.slug")
    year = serializers.IntegerField(source="edition.year")
    team = serializers.SerializerMethodField()
    errors = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField(help_text="The submission's page on the site.")

    class Meta:
        model = Submission
        fields = [
            "id",
            "challenge",
            "edition",
            "year",
            "team",
            "method_name",
            "description",
            "arch",
            "format",
            "model_io",
            "original_name",
            "size_bytes",
            "is_baseline",
            "method_year",
            "status",
            "error_code",
            "error_message",
            "attempts",
            "created_at",
            "started_at",
            "finished_at",
            "errors",
            "url",
        ]
        read_only_fields = fields

    def get_team(self, submission: Submission) -> str | None:
        return submission.team.name if submission.team_id else None

    @extend_schema_field(ShownErrorsSerializer)
    def get_errors(self, submission: Submission) -> dict:
        return results.submission_summary(submission=submission)

    def get_url(self, submission: Submission) -> str:
        return _absolute(self, submission.get_absolute_url())


class RerunFailureSerializer(serializers.Serializer):
    """A host's re-run that failed; the entry kept the score it had."""

    attempt = serializers.IntegerField()
    error_code = serializers.CharField()
    error_message = serializers.CharField()
    dataset_fingerprint = serializers.CharField(help_text="The test set the re-run used.")
    failed_at = serializers.DateTimeField()


class RobustnessRunSerializer(serializers.Serializer):
    """The robustness track's run of the current score, scored after the clean set."""

    status = serializers.CharField(
        help_text="pending, running, done or failed; while pending or running the clean score "
        "is final and the copies are still to come."
    )
    error_code = serializers.CharField(help_text="Why it failed (the clean score stays).")
    error_message = serializers.CharField()
    finished_at = serializers.DateTimeField(allow_null=True)


class SubmissionDetailSerializer(SubmissionSerializer):
    """Status plus the full result, with the private part only once the edition has closed."""

    result = serializers.SerializerMethodField()
    reruns = serializers.IntegerField(read_only=True, help_text="Re-runs a host asked for.")
    rerun_failures = serializers.SerializerMethodField(
        help_text="The re-runs that failed, newest first; each left the score as it was."
    )
    score_kept = serializers.SerializerMethodField(
        help_text="True when the current score predates the last re-run, which failed: the "
        "score from before stays current (and ranks)."
    )
    robustness = serializers.SerializerMethodField(
        help_text="The robustness track's run of the score; null without the track."
    )

    class Meta(SubmissionSerializer.Meta):
        fields = [
            *SubmissionSerializer.Meta.fields,
            "result",
            "reruns",
            "rerun_failures",
            "score_kept",
            "robustness",
        ]
        read_only_fields = fields

    @extend_schema_field(ResultSerializer(allow_null=True))
    def get_result(self, submission: Submission) -> dict[str, Any] | None:
        return results.submission_result(submission=submission)

    @extend_schema_field(RerunFailureSerializer(many=True))
    def get_rerun_failures(self, submission: Submission) -> list[dict[str, Any]]:
        return RerunFailureSerializer(_rerun_failures(submission), many=True).data

    @extend_schema_field(RobustnessRunSerializer(allow_null=True))
    def get_robustness(self, submission: Submission) -> dict[str, Any] | None:
        run = RobustnessRun.objects.filter(submission=submission).first()
        return None if run is None else RobustnessRunSerializer(run).data

    def get_score_kept(self, submission: Submission) -> bool:
        failures = _rerun_failures(submission)
        score = getattr(submission, "score", None) if submission.status == "scored" else None
        return bool(failures and score is not None and failures[0].failed_at > score.created_at)


class SubmissionCreateSerializer(serializers.Serializer):
    """The upload form's fields, with the web form's limits (``leaderboard.forms``)."""

    file = serializers.FileField(
        help_text="ONNX, safetensors (with arch), torch.export .pt2 or TorchScript."
    )
    method_name = serializers.CharField(max_length=200)
    arch = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="", help_text="e.g. resnet18"
    )
    description = serializers.CharField(required=False, allow_blank=True, default="")


class HistoryEntrySerializer(serializers.Serializer):
    """A ranked entry of ``selectors.challenge_history``: who, what, its errors in its phase."""

    submission_id = serializers.CharField()
    team = serializers.CharField(allow_null=True, help_text="null for a baseline.")
    method_name = serializers.CharField(source="method")
    year = serializers.IntegerField(help_text="The edition's year; a baseline's paper year.")

    def get_fields(self) -> dict[str, serializers.Field]:
        return {**super().get_fields(), **metric_fields(lambda m: m.key)}


class HistoryEditionSerializer(serializers.Serializer):
    edition = serializers.CharField(source="edition.slug")
    name = serializers.CharField(source="edition")
    phase = serializers.SerializerMethodField(
        help_text="private once the edition has closed (ranked on the finals), else public."
    )
    teams = serializers.IntegerField(source="n_teams")
    entries = serializers.IntegerField(source="n_submissions")
    winner = HistoryEntrySerializer(allow_null=True)
    runner_up = HistoryEntrySerializer(allow_null=True)

    def get_phase(self, summary: Any) -> str:
        return "private" if summary.final else "public"

    def get_fields(self) -> dict[str, serializers.Field]:
        # The best of each metric over the edition's ranked team entries: best_top1_error...
        bests = metric_fields(lambda m: f"best_{m.key}", name=lambda m: f"best_{m.field}")
        return {**super().get_fields(), **bests}


class ReportedResultSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReferenceResult
        fields = ["team", "method", "top1_error", "top5_error", "note", "source"]


class HistoryYearSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    editions = HistoryEditionSerializer(many=True)
    best_baseline = HistoryEntrySerializer(
        source="baseline",
        allow_null=True,
        help_text="The best baseline whose paper is of this year.",
    )
    baselines = HistoryEntrySerializer(many=True)
    reported = ReportedResultSerializer(many=True, help_text="Published results, not our scores.")


class HistorySerializer(serializers.Serializer):
    """``selectors.challenge_history``, as the challenge page's year-by-year table shows it."""

    challenge = serializers.CharField(source="challenge.slug")
    title = serializers.CharField(source="challenge.title")
    metric = serializers.ChoiceField(choices=Metric.values)
    years = HistoryYearSerializer(many=True)


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    token_expires_at = serializers.DateTimeField(allow_null=True)


def _absolute(serializer: serializers.Serializer, path: str) -> str:
    request = serializer.context.get("request")
    return request.build_absolute_uri(path) if request is not None else path


def _rerun_failures(submission: Submission) -> list:
    """Newest first, read once per submission; no query for one never re-run."""
    if not submission.reruns:
        return []
    cached = getattr(submission, "_rerun_failures", None)
    if cached is None:
        cached = list(submission.rerun_failures.order_by("-failed_at", "-pk"))
        submission._rerun_failures = cached
    return cached

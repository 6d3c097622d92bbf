"""A host's controls through the API: re-run entries, pause uploads, freeze the public board.

The same rule as the host page (``selectors.permissions``): hosts and teaching assistants see
the controls and re-run entries; only hosts pause, resume, freeze and unfreeze. Every change is
made by ``services.host_control``, the pages' service; a refusal is 403 ``not_host`` or 400
with the service's code.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leaderboard import selectors
from leaderboard.api.errors import ApiError
from leaderboard.api.serializers import ErrorSerializer
from leaderboard.api.throttling import UserThrottle
from leaderboard.models import Edition, RerunFailure, Submission
from leaderboard.selectors.permissions import can_host, can_moderate, edition_role
from leaderboard.services import host_control
from leaderboard.services.submissions import submissions_paused_message

from .schema import errors

MAX_IDS = 1000


class RerunRequestSerializer(serializers.Serializer):
    """Which entries to score again: ids, every final entry, or both."""

    submissions = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        default=list,
        max_length=MAX_IDS,
        help_text="Ids of the edition's submissions to score again.",
    )
    finals = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Also every final entry: each team's chosen finals (its best entry if it "
        "chose none) and the baselines.",
    )


class RerunResultSerializer(serializers.Serializer):
    queued = serializers.ListField(
        child=serializers.UUIDField(), help_text="Queued to be scored again."
    )
    skipped = serializers.ListField(
        child=serializers.UUIDField(),
        help_text="Asked for by id but not queued: still queued or running, failed through the "
        "platform (the team submits again), or not a submission of this edition.",
    )
    message = serializers.CharField()


class FreezeRequestSerializer(serializers.Serializer):
    frozen_at = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="When the public board freezes (ISO 8601; without an offset, in the "
        "edition's time zone); now when left out. It stays frozen until the close.",
    )


class StandingRerunFailureSerializer(serializers.ModelSerializer):
    """A failed re-run whose entry still holds its score from before."""

    submission = serializers.UUIDField(source="submission_id")
    method_name = serializers.CharField(source="submission.method_name")
    team = serializers.SerializerMethodField()
    score_scored_at = serializers.DateTimeField(
        source="submission.score.created_at",
        help_text="When the score the entry kept was recorded.",
    )

    class Meta:
        model = RerunFailure
        fields = [
            "submission",
            "method_name",
            "team",
            "attempt",
            "error_code",
            "error_message",
            "dataset_fingerprint",
            "failed_at",
            "score_scored_at",
        ]
        read_only_fields = fields

    def get_team(self, failure: RerunFailure) -> str | None:
        team = failure.submission.team
        return team.name if team is not None else None


class HostControlsSerializer(serializers.Serializer):
    """The edition's controls as they stand, for its hosts and assistants."""

    challenge = serializers.CharField()
    edition = serializers.CharField()
    role = serializers.CharField(help_text="The caller's: host or ta.")
    closes_at = serializers.DateTimeField()
    submissions_paused = serializers.BooleanField()
    submissions_paused_at = serializers.DateTimeField(allow_null=True)
    pause_message = serializers.CharField(
        help_text="What an upload is refused with while paused; empty when accepted."
    )
    board_frozen_at = serializers.DateTimeField(
        allow_null=True, help_text="The freeze set by a host (it may be still to come)."
    )
    board_frozen_now = serializers.BooleanField(
        help_text="Whether the public board shows the standings at the freeze now."
    )
    reruns_pending = serializers.IntegerField(help_text="Re-runs queued or running.")
    rerun_failures = StandingRerunFailureSerializer(
        many=True, help_text="Failed re-runs whose entry still holds its score from before."
    )
    message = serializers.CharField(required=False, help_text="What the change did, in words.")


def controls_state(*, edition: Edition, user: Any, message: str = "") -> dict[str, Any]:
    now = timezone.now()
    body = {
        "challenge": edition.challenge.slug,
        "edition": edition.slug,
        "role": edition_role(user=user, edition=edition),
        "closes_at": edition.closes_at,
        "submissions_paused": edition.submissions_paused,
        "submissions_paused_at": edition.submissions_paused_at,
        "pause_message": (
            submissions_paused_message(edition=edition) if edition.submissions_paused else ""
        ),
        "board_frozen_at": edition.board_frozen_at,
        "board_frozen_now": edition.board_frozen_as_of(now=now) is not None,
        "reruns_pending": Submission.objects.filter(
            edition=edition,
            reruns__gt=0,
            status__in=(Submission.Status.QUEUED, Submission.Status.RUNNING),
        ).count(),
        "rerun_failures": host_control.rerun_failures_standing(edition=edition),
    }
    if message:
        body["message"] = message
    return HostControlsSerializer(body).data


NOT_HOST = OpenApiResponse(
    ErrorSerializer,
    description="not_host: only the edition's hosts (and for re-runs, its "
    "teaching assistants) may do this; permission_denied likewise.",
)


class HostView(APIView):
    """An edition's control, for those the one permission rule lets in."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [UserThrottle]
    hosts_only = False

    def edition(self, *, slug: str, edition: str, hosts_only: bool | None = None) -> Edition:
        found = selectors.edition_get(challenge_slug=slug, edition_slug=edition)
        only_hosts = self.hosts_only if hosts_only is None else hosts_only
        allowed = can_host if only_hosts else can_moderate
        if not allowed(user=self.request.user, edition=found):
            who = "hosts" if only_hosts else "hosts and teaching assistants"
            raise ApiError(
                f"Only the edition's {who} may do this.",
                code="not_host",
                status_code=status.HTTP_403_FORBIDDEN,
            )
        return found


class HostControls(HostView):
    @extend_schema(responses={200: HostControlsSerializer, 403: NOT_HOST, **errors(401, 404)})
    def get(self, request: Request, slug: str, edition: str) -> Response:
        """The edition's pause, freeze and re-runs as they stand (hosts and assistants)."""
        found = self.edition(slug=slug, edition=edition)
        return Response(controls_state(edition=found, user=request.user))


class Reruns(HostView):
    @extend_schema(
        request=RerunRequestSerializer,
        responses={
            202: RerunResultSerializer,
            403: NOT_HOST,
            409: OpenApiResponse(
                ErrorSerializer,
                description="nothing_rerun: none of the chosen entries could be queued.",
            ),
            **errors(400, 401, 404),
        },
    )
    def post(self, request: Request, slug: str, edition: str) -> Response:
        """Score entries again (hosts and assistants): by id and/or every final entry.

        The new score replaces the current one once recorded; the old one stays in the entry's
        history. A re-run that fails leaves the entry with its score and records the failure.
        Re-runs use none of the teams' submissions."""
        found = self.edition(slug=slug, edition=edition)
        form = RerunRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        asked = [str(pk) for pk in form.validated_data["submissions"]]
        queued = host_control.submissions_rerun(
            edition=found,
            by=request.user,
            submission_ids=asked,
            finals=form.validated_data["finals"],
        )
        skipped = [pk for pk in dict.fromkeys(asked) if pk not in set(queued)]
        if not queued:
            raise ApiError(
                "Nothing re-run: the chosen entries are still queued or running, failed through "
                "the platform (not counted; the team submits again), or are not this edition's.",
                code="nothing_rerun",
                status_code=status.HTTP_409_CONFLICT,
                skipped=skipped,
            )
        n = len(queued)
        message = (
            f"{n} entr{'y' if n == 1 else 'ies'} queued to be scored again; the board keeps the "
            "current scores until the new ones are in."
        )
        body = {"queued": queued, "skipped": skipped, "message": message}
        return Response(RerunResultSerializer(body).data, status=status.HTTP_202_ACCEPTED)


class Pause(HostView):
    hosts_only = True

    @extend_schema(
        request=None, responses={200: HostControlsSerializer, 403: NOT_HOST, **errors(401, 404)}
    )
    def post(self, request: Request, slug: str, edition: str) -> Response:
        """Pause uploads (hosts only): the site, the API and the CLI refuse them, with the
        message in ``pause_message``, until resumed. The closing time does not move."""
        found = self.edition(slug=slug, edition=edition)
        if not found.submissions_paused:  # paused twice: the first time stays
            host_control.edition_pause(edition=found, by=request.user, paused=True)
        return Response(
            controls_state(
                edition=found,
                user=request.user,
                message="Submissions paused: uploads are refused until you resume.",
            )
        )

    @extend_schema(
        request=None, responses={200: HostControlsSerializer, 403: NOT_HOST, **errors(401, 404)}
    )
    def delete(self, request: Request, slug: str, edition: str) -> Response:
        """Resume uploads (hosts only)."""
        found = self.edition(slug=slug, edition=edition)
        host_control.edition_pause(edition=found, by=request.user, paused=False)
        return Response(
            controls_state(edition=found, user=request.user, message="Submissions resumed.")
        )


class Freeze(HostView):
    hosts_only = True

    @extend_schema(
        request=FreezeRequestSerializer,
        responses={200: HostControlsSerializer, 403: NOT_HOST, **errors(400, 401, 404)},
    )
    def post(self, request: Request, slug: str, edition: str) -> Response:
        """Freeze the public board from ``frozen_at`` (now by default) until the close (hosts
        only): it shows the standings at that time; each team still sees its own new scores;
        the close reveals the private board as always. 400 ``freeze_late`` past the close."""
        found = self.edition(slug=slug, edition=edition)
        form = FreezeRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        given = form.validated_data.get("frozen_at") or ""
        frozen_at = (
            host_control.edition_local_time(value=given, edition=found)
            if given.strip()
            else timezone.now()
        )
        host_control.edition_freeze(edition=found, by=request.user, frozen_at=frozen_at)
        when = timezone.localtime(frozen_at, found.tzinfo).strftime("%Y-%m-%d %H:%M %Z")
        return Response(
            controls_state(
                edition=found,
                user=request.user,
                message=f"The public board freezes at {when} until the close.",
            )
        )

    @extend_schema(
        request=None, responses={200: HostControlsSerializer, 403: NOT_HOST, **errors(401, 404)}
    )
    def delete(self, request: Request, slug: str, edition: str) -> Response:
        """Lift the freeze (hosts only): the public board is live again."""
        found = self.edition(slug=slug, edition=edition)
        host_control.edition_freeze(edition=found, by=request.user, frozen_at=None)
        return Response(
            controls_state(
                edition=found, user=request.user, message="The public board is no longer frozen."
            )
        )

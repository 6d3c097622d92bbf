"""The leaderboard as JSON (paginated) or CSV (whole), ranked by the page's own selector."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leaderboard import selectors
from leaderboard.api.pagination import PageNumberPagination
from leaderboard.api.renderers import CSVRenderer
from leaderboard.api.serializers import LeaderboardPageSerializer, LeaderboardRowSerializer
from leaderboard.metrics import METRICS

from .schema import errors

POSITIVE = {"type": "integer", "minimum": 1}


class Leaderboard(APIView):
    renderer_classes = [JSONRenderer, CSVRenderer]
    metadata_class = None  # no OPTIONS answer (it would have to be rendered as CSV too)
    # Every registered metric, a track's (the robust error) after the entry's other columns.
    # A baseline has no position (positions number the teams); its "baseline" cell says True.
    csv_columns = [
        "position",
        "baseline",
        "team",
        "method_name",
        "method_year",
        "arch",
        "format",
        *(m.field for m in METRICS if not m.track),
        "images",
        "entries",
        "submitted_at",
        *(m.field for m in METRICS if m.track),
    ]

    @extend_schema(
        parameters=[
            OpenApiParameter("page", POSITIVE, description="Page number (JSON only)."),
            OpenApiParameter("page_size", POSITIVE, description="Rows per page (up to 500)."),
            OpenApiParameter(
                "format", str, enum=["json", "csv"], description="csv: the whole board."
            ),
            OpenApiParameter(
                "board",
                str,
                enum=["public"],
                description=(
                    "public: once the edition has closed, the board of the public part (as "
                    "while it ran) instead of the final standings. Ignored while it runs."
                ),
            ),
        ],
        responses={
            (200, "application/json"): LeaderboardPageSerializer,
            (200, "text/csv"): OpenApiTypes.STR,
            **errors(400, 404, 406),
        },
    )
    def get(self, request: Request, slug: str, edition: str) -> Response:
        """Best entry per team plus the baselines, ranked exactly as on the leaderboard page."""
        found = selectors.edition_get(challenge_slug=slug, edition_slug=edition)
        now = timezone.now()
        asked = request.query_params.get("board")
        phase = selectors.board_phase(edition=found, now=now, asked=asked)
        board = selectors.edition_leaderboard(edition=found, now=now, phase=phase)
        context = {"request": request}
        if request.accepted_renderer.format == CSVRenderer.format:
            rows = _csv_rows(LeaderboardRowSerializer(board.rows, many=True, context=context).data)
            name = f"{found.challenge.slug}-{found.slug}-leaderboard.csv"
            return Response(rows, headers={"Content-Disposition": f'attachment; filename="{name}"'})
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(board.rows, request, view=self)
        return Response(
            {
                "challenge": found.challenge.slug,
                "edition": found.slug,
                "year": found.year,
                "phase": board.phase,
                "metric": board.metric,
                "frozen_at": board.frozen_at,
                "count": len(board.rows),
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "results": LeaderboardRowSerializer(page, many=True, context=context).data,
            }
        )


def _csv_rows(rows: list[dict]) -> list[dict]:
    """The JSON rows as the CSV writes them: a baseline's position blank, ``is_baseline`` as
    the "baseline" column (a team's "1" never sits beside a baseline's "1")."""
    return [
        {
            **row,
            "position": None if row["is_baseline"] else row["position"],
            "baseline": row["is_baseline"],
        }
        for row in rows
    ]

"""Challenges, their editions and their year-by-year history: public, read-only."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leaderboard import selectors
from leaderboard.api.serializers import ChallengeSerializer, EditionSerializer, HistorySerializer
from leaderboard.models import Challenge

from .schema import errors


@extend_schema(responses={200: ChallengeSerializer(many=True), **errors(400, 404)})
class ChallengeList(generics.ListAPIView):
    """All challenges, each with its editions (newest first)."""

    serializer_class = ChallengeSerializer

    def get_queryset(self) -> QuerySet[Challenge]:
        # The count annotation drops Meta.ordering; pages need a stable order.
        return selectors.challenge_list().order_by("title", "pk")


class ChallengeDetail(APIView):
    @extend_schema(responses={200: ChallengeSerializer, **errors(404)})
    def get(self, request: Request, slug: str) -> Response:
        """One challenge with its editions."""
        challenge = selectors.challenge_get(slug=slug)
        return Response(ChallengeSerializer(challenge, context={"request": request}).data)


class EditionDetail(APIView):
    @extend_schema(responses={200: EditionSerializer, **errors(404)})
    def get(self, request: Request, slug: str, edition: str) -> Response:
        """One edition: dates, state and limits (the CLI checks the size cap before uploading)."""
        found = selectors.edition_get(challenge_slug=slug, edition_slug=edition)
        return Response(EditionSerializer(found, context={"request": request}).data)


class ChallengeHistory(APIView):
    @extend_schema(responses={200: HistorySerializer, **errors(404)})
    def get(self, request: Request, slug: str) -> Response:
        """Year by year, as on the challenge page: each edition's winner and runner-up, the
        best baseline of the year's papers, and the results reported elsewhere."""
        challenge = selectors.challenge_get(slug=slug)
        found = selectors.challenge_history(challenge=challenge)
        return Response(HistorySerializer(found).data)

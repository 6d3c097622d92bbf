"""Reads for the challenge pages."""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from leaderboard.models import Challenge, Edition, SampleImage


def challenge_list() -> QuerySet[Challenge]:
    """All challenges with their editions (newest first), in two queries."""
    return Challenge.objects.annotate(n_editions=Count("editions")).prefetch_related(
        Prefetch("editions", queryset=Edition.objects.order_by("-year"))
    )


def challenge_get(*, slug: str) -> Challenge:
    """One challenge with its editions and sample images prefetched; 404 if unknown."""
    return get_object_or_404(
        Challenge.objects.prefetch_related(
            Prefetch("editions", queryset=Edition.objects.order_by("-year")), "samples"
        ),
        slug=slug,
    )


def edition_get(*, challenge_slug: str, edition_slug: str) -> Edition:
    """The edition with its challenge, in one query; 404 if unknown."""
    return get_object_or_404(
        Edition.objects.select_related("challenge"),
        challenge__slug=challenge_slug,
        slug=edition_slug,
    )


def sample_get(*, challenge_slug: str, sample_id: int) -> SampleImage:
    return get_object_or_404(SampleImage, pk=sample_id, challenge__slug=challenge_slug)

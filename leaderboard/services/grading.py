"""A host sets an edition's grading rule (the maths is ``leaderboard.grading``)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction

from leaderboard import grading
from leaderboard.models import Edition, GradingRule, Submission
from leaderboard.selectors.permissions import can_host


def grading_rule_set(
    *,
    edition: Edition,
    by: AbstractBaseUser,
    kind: str,
    bands: tuple[grading.Band, ...] = (),
    full_points_error: float | None = None,
    zero_points_error: float | None = None,
    max_points: Decimal = Decimal(10),
    bonus_baseline: Submission | None = None,
    bonus_points: Decimal = Decimal(0),
    unranked_points: Decimal = Decimal(0),
    assignment: str = "",
) -> GradingRule:
    """Create or replace the edition's rule; ValidationError (by field) for one that cannot
    grade, and then nothing is written."""
    if not can_host(user=by, edition=edition):
        raise PermissionDenied("Only the edition's hosts set its grading rule.")
    with transaction.atomic():
        rule = GradingRule.objects.select_for_update().filter(edition=edition).first()
        rule = rule or GradingRule(edition=edition)
        rule.kind = kind
        rule.bands = GradingRule.bands_json(bands) if kind == GradingRule.Kind.BANDS else []
        rule.full_points_error = full_points_error
        rule.zero_points_error = zero_points_error
        rule.max_points = max_points
        rule.bonus_baseline = bonus_baseline
        rule.bonus_points = bonus_points
        rule.unranked_points = unranked_points
        rule.assignment = assignment.strip()
        rule.full_clean()
        rule.save()
    return rule

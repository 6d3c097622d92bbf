"""How a host turns an edition's final board into grades: one rule per edition.

The maths is in ``leaderboard.grading``; this row only keeps what the host chose, and checks it
with the same functions (``clean``), so a rule that cannot grade is never saved.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from leaderboard import grading
from leaderboard.metrics import metric_get

from .challenges import Edition
from .submissions import Submission

_POINTS = {"max_digits": 7, "decimal_places": 2, "validators": [MinValueValidator(Decimal(0))]}
_ERROR = {
    "null": True,
    "blank": True,
    "validators": [MinValueValidator(0.0), MaxValueValidator(1.0)],
}
# GradingError.field -> the model field it is about.
_FIELDS = {
    "kind": "kind",
    "bands": "bands",
    "full_at": "full_points_error",
    "zero_at": "zero_points_error",
    "max_points": "max_points",
    "bonus_points": "bonus_points",
    "unranked_points": "unranked_points",
    "baseline": "bonus_baseline",
}


class GradingRule(models.Model):
    """Points by rank bands, or linear in the error between two thresholds, plus an optional
    bonus for beating one of the edition's baselines. Errors are fractions (0.125), as on
    Score; the error is the edition's ranking metric on its private (final) board."""

    class Kind(models.TextChoices):
        BANDS = grading.BANDS, "Points by rank bands"
        LINEAR = grading.LINEAR, "Points linear in the error"

    edition = models.OneToOneField(
        Edition, on_delete=models.CASCADE, primary_key=True, related_name="grading_rule"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.BANDS)
    # [[first, last or null, "points"], ...]: ranks first..last (null: and below) get points.
    bands = models.JSONField(default=list, blank=True)
    full_points_error = models.FloatField(**_ERROR)
    zero_points_error = models.FloatField(**_ERROR)
    max_points = models.DecimalField(default=Decimal(10), **_POINTS)
    bonus_baseline = models.ForeignKey(
        Submission,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"is_baseline": True},
    )
    bonus_points = models.DecimalField(default=Decimal(0), **_POINTS)
    unranked_points = models.DecimalField(default=Decimal(0), **_POINTS)
    # The gradebook's column (a Canvas assignment, a Moodle grade item); "" uses the edition's.
    assignment = models.CharField(max_length=100, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"grading of {self.edition}"

    @property
    def assignment_name(self) -> str:
        return self.assignment or f"{self.edition.display_name} competition"

    def band_list(self) -> tuple[grading.Band, ...]:
        return tuple(
            grading.Band(
                first=int(first),
                last=None if last is None else int(last),
                points=Decimal(str(points)),
            )
            for first, last, points in self.bands
        )

    @staticmethod
    def bands_json(bands: tuple[grading.Band, ...]) -> list:
        return [[b.first, b.last, grading.points_text(b.points)] for b in bands]

    @property
    def bands_text(self) -> str:
        return "\n".join(band.as_text() for band in self.band_list())

    def as_rule(self, *, baseline_error: float | None = None) -> grading.Rule:
        """The rule for ``leaderboard.grading``, with the baseline's error on the board."""
        baseline = self.bonus_baseline
        metric = metric_get(self.edition.challenge.primary_metric)
        return grading.Rule(
            kind=self.kind,
            bands=self.band_list() if self.kind == self.Kind.BANDS else (),
            full_at=self.full_points_error,
            zero_at=self.zero_points_error,
            max_points=Decimal(self.max_points),
            bonus_points=Decimal(self.bonus_points) if baseline else Decimal(0),
            baseline_name=baseline.method_name if baseline else "",
            baseline_error=baseline_error,
            unranked_points=Decimal(self.unranked_points),
            lower_is_better=metric.lower_is_better,
        )

    def clean(self) -> None:
        super().clean()
        baseline = self.bonus_baseline
        if baseline is not None and (
            not baseline.is_baseline or baseline.edition_id != self.edition_id
        ):
            raise ValidationError(
                {"bonus_baseline": "Choose a baseline of this edition's leaderboard."}
            )
        if baseline is None and self.bonus_points and self.bonus_points > 0:
            raise ValidationError(
                {"bonus_baseline": "Name the baseline a team must beat for the bonus."}
            )
        if baseline is not None and not self.bonus_points:
            raise ValidationError({"bonus_points": "Give the points for beating the baseline."})
        try:
            grading.check_rule(self.as_rule())
        except grading.GradingError as exc:
            raise ValidationError({_FIELDS.get(exc.field) or "__all__": exc.message}) from None
        except (TypeError, ValueError) as exc:  # a malformed bands list
            raise ValidationError({"bands": f"Not a list of bands: {exc}"}) from None

"""The host's grading-rule form: errors typed as percentages, bands as one line each."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from leaderboard import grading
from leaderboard.metrics import metric_get
from leaderboard.models import Edition, GradingRule, Submission

# The model's field -> the form's, for errors the model's validation names.
MODEL_TO_FORM = {
    "full_points_error": "full_points_pct",
    "zero_points_error": "zero_points_pct",
}
_PCT = {
    "required": False,
    "min_value": Decimal(0),
    "max_value": Decimal(100),
    "decimal_places": 4,
    "widget": forms.NumberInput(attrs={"step": "any"}),
}
_POINTS = {
    "min_value": Decimal(0),
    "max_digits": 7,
    "decimal_places": 2,
    "widget": forms.NumberInput(attrs={"step": "any"}),
}


class BaselineChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Submission) -> str:
        return obj.method_name


class GradingRuleForm(forms.Form):
    kind = forms.ChoiceField(
        choices=GradingRule.Kind.choices, widget=forms.RadioSelect, label="Grade by"
    )
    bands = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "1-3: 10\n4-10: 8\n11+: 5"}),
        label="Rank bands",
        help_text="One band a line: ranks, a colon, the points (“1-3: 10”, “4: 8”, “11+: 5”).",
    )
    full_points_pct = forms.DecimalField(label="Full points at or below (error %)", **_PCT)
    zero_points_pct = forms.DecimalField(label="No points at or above (error %)", **_PCT)
    max_points = forms.DecimalField(label="Full points", initial=Decimal(10), **_POINTS)
    bonus_baseline = BaselineChoice(
        queryset=Submission.objects.none(),
        required=False,
        empty_label="No bonus",
        label="Bonus for beating",
    )
    bonus_points = forms.DecimalField(label="Bonus points", initial=Decimal(0), **_POINTS)
    unranked_points = forms.DecimalField(
        label="Points for a team with no scored entry", initial=Decimal(0), **_POINTS
    )
    assignment = forms.CharField(
        required=False,
        max_length=100,
        label="Gradebook column",
        help_text="The assignment (Canvas) or grade item (Moodle) the points go to.",
    )

    def __init__(self, *args, edition: Edition, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.edition = edition
        self.fields["bonus_baseline"].queryset = Submission.objects.filter(
            edition=edition, is_baseline=True
        ).order_by("method_name")
        metric = metric_get(edition.challenge.primary_metric)
        name = metric.label.lower()
        self.fields["full_points_pct"].label = f"Full points at or below ({name}, %)"
        self.fields["zero_points_pct"].label = f"No points at or above ({name}, %)"
        self.fields["assignment"].widget.attrs["placeholder"] = (
            f"{edition.display_name} competition"
        )

    @classmethod
    def initial_for(cls, rule: GradingRule | None) -> dict:
        if rule is None:
            return {"kind": GradingRule.Kind.BANDS, "bands": "1-3: 10\n4-10: 8\n11+: 5"}
        return {
            "kind": rule.kind,
            "bands": rule.bands_text,
            "full_points_pct": _pct(rule.full_points_error),
            "zero_points_pct": _pct(rule.zero_points_error),
            "max_points": rule.max_points,
            "bonus_baseline": rule.bonus_baseline_id,
            "bonus_points": rule.bonus_points,
            "unranked_points": rule.unranked_points,
            "assignment": rule.assignment,
        }

    def clean(self) -> dict:
        data = super().clean()
        data["parsed_bands"] = ()
        if data.get("kind") == GradingRule.Kind.BANDS and "bands" in data:
            try:
                data["parsed_bands"] = grading.parse_bands(data["bands"])
            except grading.GradingError as exc:
                self.add_error("bands", exc.message)
        return data

    def rule_fields(self) -> dict:
        """The service's keyword arguments from the cleaned form."""
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "bands": data["parsed_bands"],
            "full_points_error": _fraction(data.get("full_points_pct")),
            "zero_points_error": _fraction(data.get("zero_points_pct")),
            "max_points": data["max_points"],
            "bonus_baseline": data.get("bonus_baseline"),
            "bonus_points": data["bonus_points"],
            "unranked_points": data["unranked_points"],
            "assignment": data.get("assignment", ""),
        }

    def add_model_errors(self, exc: ValidationError) -> None:
        for field, errors in exc.message_dict.items():
            name = MODEL_TO_FORM.get(field, field)
            self.add_error(name if name in self.fields else None, errors)


def _pct(value: float | None) -> str | None:
    """0.125 -> "12.5" (no exponent, no trailing zeros)."""
    return None if value is None else format((Decimal(repr(value)) * 100).normalize(), "f")


def _fraction(value: Decimal | None) -> float | None:
    return None if value is None else float(value / 100)

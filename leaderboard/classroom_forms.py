"""Forms for classroom editions: validation only; the services decide what the rules allow."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django import forms
from django.conf import settings
from django.utils import timezone

from leaderboard.models import Challenge, Edition, Submission

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def _time_zones() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs) -> None:
        super().__init__(format=DATETIME_FORMAT, **kwargs)


class EditionForm(forms.ModelForm):
    """Create or edit an edition; opening and closing times are read in the chosen time zone."""

    time_zone = forms.ChoiceField(choices=_time_zones, initial=settings.TIME_ZONE)

    class Meta:
        model = Edition
        fields = [
            "challenge",
            "title",
            "year",
            "slug",
            "opens_at",
            "closes_at",
            "time_zone",
            "daily_limit",
            "total_limit",
            "max_upload_mb",
            "max_team_size",
            "final_submissions",
            "join_required",
        ]
        widgets = {"opens_at": LocalDateTimeInput(), "closes_at": LocalDateTimeInput()}
        labels = {
            "opens_at": "Opens",
            "closes_at": "Closes",
            "max_upload_mb": "Largest upload (MB)",
            "max_team_size": "Team size",
            "final_submissions": "Final submissions per team",
            "join_required": "Students must join with the code",
        }
        help_texts = {"slug": "In the address: /c/<challenge>/<slug>/ (e.g. 2026-spring)."}

    def __init__(self, *args, editing: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["challenge"].queryset = Challenge.objects.order_by("title")
        if editing:
            for name in ("challenge", "year", "slug"):
                del self.fields[name]
            zone = zoneinfo.ZoneInfo(self.instance.time_zone)
            for name in ("opens_at", "closes_at"):
                value = getattr(self.instance, name)
                self.initial[name] = timezone.localtime(value, zone).strftime(DATETIME_FORMAT)

    def clean(self) -> dict:
        """Django read the times in the server's zone; re-read the same wall-clock time in
        the edition's own zone, so 23:59 means 23:59 where the class is."""
        data = super().clean()
        name = data.get("time_zone")
        if name:
            zone = zoneinfo.ZoneInfo(name)
            for field in ("opens_at", "closes_at"):
                value = data.get(field)
                if isinstance(value, dt.datetime):
                    wall = timezone.make_naive(value, timezone.get_current_timezone())
                    data[field] = timezone.make_aware(wall, zone)
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", "The edition must close after it opens.")
        return data

    def _post_clean(self) -> None:
        # Validation of the model (constraints, uniqueness) is the service's job.
        pass


class JoinForm(forms.Form):
    code = forms.CharField(
        max_length=32,
        label="Join code",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )


class TeamCreateForm(forms.Form):
    name = forms.CharField(max_length=150, label="Team name")


class TeamJoinForm(forms.Form):
    code = forms.CharField(max_length=32, label="Team code")


class TeamInviteForm(forms.Form):
    username = forms.CharField(max_length=150, label="User name")


class ModerationForm(forms.Form):
    action = forms.ChoiceField(choices=Submission.Moderation.choices, required=False)
    reason = forms.CharField(max_length=2000, required=False)

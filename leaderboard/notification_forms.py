"""Forms for notifications: a host's announcement, a user's e-mail choices."""

from __future__ import annotations

from django import forms

from leaderboard.models import Announcement
from leaderboard.models.notifications import Kind
from leaderboard.services.notifications.announcements import BODY_MAX, SUBJECT_MAX


class AnnouncementForm(forms.Form):
    subject = forms.CharField(max_length=SUBJECT_MAX)
    body = forms.CharField(
        label="Text",
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="Markdown: **bold**, *italic*, [links](https://...), lists, tables, code.",
    )
    audience = forms.ChoiceField(
        choices=Announcement.Audience.choices,
        initial=Announcement.Audience.ALL,
        widget=forms.RadioSelect,
        label="Send to",
    )


class PreferencesForm(forms.Form):
    """One box per kind of e-mail; a box left empty turns that kind off."""

    email = forms.MultipleChoiceField(
        choices=Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="E-mail me when",
    )

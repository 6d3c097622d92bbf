"""The People page's forms: a role for a username or an address, and the roster's CSV file."""

from __future__ import annotations

from django import forms

from leaderboard.models import EditionRole


class RoleAddForm(forms.Form):
    who = forms.CharField(
        label="Username or e-mail",
        max_length=254,
        help_text="A username gets the role at once; an e-mail address gets an invitation link.",
    )
    role = forms.ChoiceField(choices=EditionRole.Role.choices, initial=EditionRole.Role.TA)


class RoleSetForm(forms.Form):
    role = forms.ChoiceField(choices=EditionRole.Role.choices)


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label="Roster CSV",
        help_text="UTF-8, a header row, then one student a row: email, name, and optionally team.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    invite = forms.BooleanField(
        label="Mail each new student their invitation link", required=False, initial=True
    )

"""Small template helpers for the history, leaderboard and classroom pages."""

from __future__ import annotations

import datetime as dt

from django import template
from django.templatetags.tz import do_timezone

register = template.Library()


@register.filter
def pct(value: float | None, digits: int = 2) -> str:
    """An error stored as a fraction, shown as a percentage ("16.42%"); a dash when absent."""
    if value is None or value == "":
        return "\u2013"  # an en dash
    return f"{100.0 * float(value):.{int(digits)}f}%"


@register.filter
def in_zone(value: dt.datetime | None, zone) -> dt.datetime | str:
    """The time in the edition's zone (``{{ edition.closes_at|in_zone:edition.tzinfo }}``).

    Django's ``timezone`` filter, so that a following ``date`` filter keeps this zone instead
    of converting back to the site's.
    """
    if value is None:
        return ""
    return do_timezone(value, zone)

"""Small template helpers for the history, leaderboard and classroom pages."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

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


@register.filter
def fixed(value: float | None, digits: int = 4) -> str:
    """``floatformat:4`` without its localisation lookups (3 us a call instead of 35, which adds
    up over a leaderboard's rows): the same half-up rounding of the shortest repr."""
    if value is None or value == "":
        return ""
    exponent = Decimal(1).scaleb(-int(digits))
    return str(Decimal(repr(float(value))).quantize(exponent, rounding=ROUND_HALF_UP))


@register.filter
def local_minute(value: dt.datetime | None, zone) -> str:
    """``in_zone`` then ``date:"Y-m-d H:i"`` in one step, for the many rows of a table."""
    if value is None:
        return ""
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")

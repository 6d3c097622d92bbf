"""Template filters of the robustness pages."""

from __future__ import annotations

from django import template

register = template.Library()
NONE = "\u2013"  # an en dash, as the other tables show a missing number


@register.filter
def signed_percent(value: float | None, digits: int = 0) -> str:
    """A relative change as a signed percentage (0.25 -> "+25%"); a dash when there is none."""
    if value is None:
        return NONE
    return f"{100 * float(value):+.{int(digits)}f}%"

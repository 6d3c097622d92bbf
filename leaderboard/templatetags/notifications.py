"""The menu's notifications link with its unread count, and an edition's announcements."""

from __future__ import annotations

from django import template

from leaderboard.selectors import notifications as reads

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> int:
    """``{% unread_notifications as n %}``: the signed-in user's unread count (0 for visitors)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return reads.notifications_unread_count(user=user) if user is not None else 0


@register.inclusion_tag("leaderboard/notifications/_announcements.html", takes_context=True)
def edition_announcements(context, edition) -> dict:
    """``{% edition_announcements edition %}``: the newest announcements its viewer may see."""
    request = context.get("request")
    rows = reads.edition_announcements(edition=edition, user=request.user) if request else []
    return {"announcements": list(rows), "edition": edition}

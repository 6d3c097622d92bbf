"""``{% baseline_notice target as notice %}`` (an edition or a challenge): what the baselines'
training and scoring have got to, for ``leaderboard/_training_notice.html``."""

from __future__ import annotations

from django import template

from leaderboard.models import Challenge, Edition
from leaderboard.selectors.baseline_training import BaselineNotice, challenge_baseline_notice
from leaderboard.selectors.baseline_training import baseline_notice as edition_notice

register = template.Library()


@register.simple_tag
def baseline_notice(target: Edition | Challenge | None) -> BaselineNotice | None:
    if isinstance(target, Edition):
        notice = edition_notice(edition=target)
    elif isinstance(target, Challenge):
        notice = challenge_baseline_notice(challenge=target)
    else:
        notice = None
    return notice if notice else None


@register.filter
def minutes_left(seconds: float | None) -> str:
    """'about 4 min left', 'under a minute left'; at the very start, 'estimating'."""
    if seconds is None:
        return "estimating the time left"
    if seconds < 60:
        return "under a minute left"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"about {minutes} min left"
    return f"about {seconds / 3600:.1f} h left"

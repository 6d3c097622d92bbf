"""``{% host_baselines edition %}``: the host page's panel of the edition's baselines."""

from __future__ import annotations

from django import template

from leaderboard.metrics import metric_get
from leaderboard.models import Edition
from leaderboard.selectors.edition_baselines import edition_baselines

register = template.Library()


@register.inclusion_tag("leaderboard/_host_baselines.html", takes_context=True)
def host_baselines(context: template.Context, edition: Edition) -> dict:
    """Each baseline with its public value of the ranked metric and its on/off switch."""
    return {
        "edition": edition,
        "baselines": edition_baselines(edition=edition),
        "metric": metric_get(edition.challenge.primary_metric),
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def team_rows(rows: list) -> list:
    """A board's team rows, the baselines left out (the host's standings preview)."""
    return [row for row in rows if not row.is_baseline]

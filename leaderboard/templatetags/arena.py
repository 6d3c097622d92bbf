"""Small template helpers for the history, leaderboard and classroom pages."""

from __future__ import annotations

import datetime as dt

from django import template
from django.templatetags.tz import do_timezone
from django.utils.html import format_html_join

from leaderboard import metrics
from leaderboard.selectors.visibility import submission_shown

register = template.Library()


@register.filter
def pct(value: float | None, digits: int = metrics.TOP1.decimals) -> str:
    """An error stored as a fraction, shown as a percentage ("16.42%") as the metric registry
    prints one (``RankedMetric.format``); a dash when absent."""
    if value is None or value == "":
        return metrics.DASH
    return metrics.percent(value, int(digits))


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
    return metrics.fixed(value, int(digits))


@register.filter
def metric_cells(row: object, shown: list[metrics.RankedMetric]) -> list[tuple]:
    """(metric, printed value) for each metric of ``shown``, as the registry prints it (a dash
    where the row has no value): a board row's ``<key>_value``, or a part's ``values``."""
    return [(m, m.format(_value(row, m))) for m in shown]


@register.filter
def metric_tds(row: object, shown: list[metrics.RankedMetric]) -> str:
    """A board row's metric cells (``<td class="num top5">0.1642</td>``...), the first, the
    ranked metric, in bold: one call per row, not a template loop per cell (a leaderboard page
    renders 100 rows, and a loop's tags cost more than the query's share of the row)."""
    return format_html_join(
        "",
        '<td class="num{} {}">{}</td>',
        (
            (" strong" if i == 0 else "", m.key, m.format(_value(row, m)))
            for i, m in enumerate(shown)
        ),
    )


@register.filter
def metric_values(entry: object, shown: list[metrics.RankedMetric]) -> list[tuple]:
    """(metric, raw value) for each metric of ``shown`` (the history's cells, in per cent)."""
    return [(m, _value(entry, m)) for m in shown]


def _value(row: object, metric: metrics.RankedMetric) -> float | None:
    values = getattr(row, "values", None)
    if isinstance(values, dict):
        return values.get(metric.key)
    return getattr(row, metric.alias, None)


@register.filter
def local_minute(value: dt.datetime | None, zone) -> str:
    """``in_zone`` then ``date:"Y-m-d H:i"`` in one step, for the many rows of a table."""
    if value is None:
        return ""
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


@register.filter
def on_part(metric: metrics.RankedMetric | str, part: str) -> tuple[metrics.RankedMetric, str]:
    """A metric on one part of the hidden set, for ``score_cell``:
    ``{% with pub=board.ranked|on_part:"public" %}{{ s.score|score_cell:pub }}``."""
    return metrics.metric_get(metric), part


@register.filter
def score_cell(score: object, metric_part: tuple[metrics.RankedMetric, str]) -> str:
    """A Score's value of a metric on a part, printed as the registry says."""
    metric, part = metric_part
    return metric.format(getattr(score, metric.column(part), None) if score else None)


@register.filter
def shown_cells(submission: object, shown: list[metrics.RankedMetric]) -> list[tuple]:
    """(metric, printed value) of a submission on the part its edition shows now, under the
    visibility rule (``selectors.visibility``); empty text until it is scored."""
    errors = submission_shown(submission=submission).errors
    scored = errors["phase"] is not None
    return [(m, m.format(errors[m.field]) if scored else "") for m in shown]


@register.filter
def metric_text(value: float | None, metric: metrics.RankedMetric | str) -> str:
    """A value of ``metric`` printed as the registry says (a dash where absent)."""
    return metrics.metric_get(metric).format(value)


@register.filter
def markdown(text: str) -> str:
    """A host's Markdown as cleaned HTML (``leaderboard.rich_text``)."""
    from django.utils.safestring import mark_safe

    from leaderboard.rich_text import markdown_html

    return mark_safe(markdown_html(text))


@register.filter
def can_host_challenges(user) -> bool:
    """Whether to offer "Host a challenge" (``selectors.hosting.challenge_can_create``)."""
    from leaderboard.selectors.hosting import challenge_can_create

    return challenge_can_create(user=user)


@register.filter
def runs_edition(user, edition) -> bool:
    """Whether to link the edition's host page: its hosts and assistants
    (``selectors.permissions.can_moderate``)."""
    from leaderboard.selectors.permissions import can_moderate

    return can_moderate(user=user, edition=edition)


@register.filter
def hosts_edition(user, edition) -> bool:
    """Whether to offer the host-only controls (settings, people, pause and freeze):
    ``selectors.permissions.can_host``; teaching assistants see the rest of the host page."""
    from leaderboard.selectors.permissions import can_host

    return can_host(user=user, edition=edition)

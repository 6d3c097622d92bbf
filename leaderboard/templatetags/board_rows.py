"""The rows of a leaderboard table, written in Python: ``{% board_rows board team linked %}``.

A page shows 100 rows of about fifteen cells and conditions each; through the template engine
they cost more than the ranking query itself (each variable and tag a few microseconds, each
``format_html`` a few more). Here each row is one f-string whose every value from the database
is escaped. The markup is the template's: tests compare the two.
"""

from __future__ import annotations

from collections.abc import Collection
from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

from leaderboard.metrics import RankedMetric

register = template.Library()


@register.simple_tag
def board_rows(board: object, team: object, linked: Collection) -> SafeString:
    """Every row of ``board`` (a ``selectors.Leaderboard``): ``team`` is the viewer's (its rows
    are marked ``mine``), ``linked`` the ids of the rows whose page the viewer may open."""
    zone = board.edition.tzinfo
    metrics = board.metrics
    private = board.phase == "private"
    team_id = team.pk if team else None
    return mark_safe(
        "\n".join(
            _row(row, zone=zone, metrics=metrics, private=private, team_id=team_id, linked=linked)
            for row in board.rows
        )
    )


def _row(row, *, zone, metrics, private: bool, team_id, linked: Collection) -> str:
    baseline = row.is_baseline
    classes = ("baseline" if baseline else "") + (
        " mine" if team_id is not None and row.team_id == team_id else ""
    )
    if baseline:
        place, who = '<span class="tag">baseline</span>', "<em>reference</em>"
    else:
        place, who = escape(str(row.position)), escape(str(row.team_name))
    if row.moderation == "flagged":
        reason = escape(row.moderation_reason)
        who += f' <span class="tag flagged" title="{reason}">flagged</span>'
    if private and row.is_final:
        who += ' <span class="tag final">final</span>'
    method = escape(row.method_name)
    if row.pk in linked:
        method = f'<a href="{escape(row.get_absolute_url())}">{method}</a>'
    if row.method_year:
        method += f' <span class="muted">({escape(str(row.method_year))})</span>'
    if row.arch:
        method += f" <code>{escape(row.arch)}</code>"
    created = row.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    return (
        f'<tr class="{classes}" data-submission="{escape(str(row.pk))}">'
        f'<td class="num">{place}</td><td>{who}</td><td>{method}</td>{_metric_cells(row, metrics)}'
        f'<td class="num">{escape(str(row.scored_images))}</td>'
        f'<td class="num">{escape(str(row.team_entries))}</td><td>{created}</td></tr>'
    )


def _metric_cells(row: object, metrics: tuple[RankedMetric, ...]) -> str:
    """The ranked metric first, in bold, then the others, as the registry prints each."""
    return "".join(
        f'<td class="num{" strong" if i == 0 else ""} {m.key}">'
        f"{escape(m.format(getattr(row, m.alias, None)))}</td>"
        for i, m in enumerate(metrics)
    )

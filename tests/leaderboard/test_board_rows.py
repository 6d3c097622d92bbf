"""The leaderboard's rows written in Python (``templatetags.board_rows``) against the template
loop they replace, kept here as the reference: the same markup for every kind of row."""

from __future__ import annotations

import re

import pytest
from django.template import Context, Template

from leaderboard import selectors
from leaderboard.templatetags.board_rows import board_rows

from .factories import make_edition, make_scored, make_team

pytestmark = pytest.mark.django_db

# The loop of leaderboard.html before the rows were written in Python.
TEMPLATE_ROWS = Template(
    """{% load arena %}{% for row in board.rows %}
    <tr class="{% if row.is_baseline %}baseline{% endif %}{% if team and row.team_id == team.pk %} mine{% endif %}" data-submission="{{ row.pk }}">
      <td class="num">{% if row.is_baseline %}<span class="tag">baseline</span>{% else %}{{ row.position }}{% endif %}</td>
      <td>{% if row.is_baseline %}<em>reference</em>{% else %}{{ row.team_name }}{% endif %}
        {% if row.moderation == "flagged" %} <span class="tag flagged" title="{{ row.moderation_reason }}">flagged</span>{% endif %}
        {% if board.phase == "private" and row.is_final %} <span class="tag final">final</span>{% endif %}</td>
      <td>{% if row.pk in linked %}<a href="{{ row.get_absolute_url }}">{{ row.method_name }}</a>{% else %}{{ row.method_name }}{% endif %}{% if row.method_year %} <span class="muted">({{ row.method_year }})</span>{% endif %}{% if row.arch %} <code>{{ row.arch }}</code>{% endif %}</td>
      {{ row|metric_tds:board.metrics }}
      <td class="num">{{ row.scored_images }}</td>
      <td class="num">{{ row.team_entries }}</td>
      <td>{{ row.created_at|local_minute:edition.tzinfo }}</td>
    </tr>{% endfor %}"""  # noqa: E501
)


def normalised(html: str) -> str:
    """Whitespace between and at the edges of tags dropped, other runs made one space."""
    html = re.sub(r"\s+", " ", html)
    return re.sub(r"\s*(<[^>]*>)\s*", r"\1", html).strip()


def both(board, *, team=None, linked=frozenset()) -> tuple[str, str]:
    context = {"board": board, "team": team, "linked": linked, "edition": board.edition}
    return board_rows(board, team, linked), TEMPLATE_ROWS.render(Context(context))


@pytest.mark.parametrize("phase", ["public", "private"])
def test_every_kind_of_row_is_written_as_the_template_wrote_it(challenge, phase):
    edition = make_edition(challenge=challenge, open_now=False)  # closed: both boards exist
    edition.time_zone = "Asia/Kolkata"
    edition.save()
    odd = make_team(edition=edition, name="<b>Tom & \"Jerry\"</b> 'quoted'")
    plain = make_team(edition=edition, name="plain")
    flagged = make_scored(
        edition=edition,
        team=odd,
        top1=0.2,
        top5=0.1,
        method="<script>alert(1)</script>",
        arch="resnet18",
        moderation="flagged",
        moderation_reason='copied from "elsewhere" <maybe>',
        is_final=True,
    )
    make_scored(edition=edition, team=plain, top1=0.3, top5=0.2, method="ok & fine")
    make_scored(
        edition=edition,
        team=None,
        baseline=True,
        top1=0.4,
        top5=0.3,
        method="AlexNet",
        method_year=2012,
    )
    board = selectors.edition_leaderboard(edition=edition, phase=phase, page=1)
    assert len(board.rows) == 3

    ours, reference = both(board, team=plain, linked={flagged.pk})

    assert normalised(ours) == normalised(reference)
    assert ours.count("<tr") == 3 and " mine" in ours and "<script>" not in ours
    assert ("tag final" in ours) == (phase == "private")


def test_a_viewer_without_team_or_links_gets_the_same_rows(challenge):
    edition = make_edition(challenge=challenge)
    for i in range(5):
        team = make_team(edition=edition, name=f"t{i}")
        make_scored(edition=edition, team=team, top1=0.1 * i, top5=0.05 * i)
    board = selectors.edition_leaderboard(edition=edition, page=1)
    ours, reference = both(board)
    assert normalised(ours) == normalised(reference)
    assert "mine" not in ours and "<a " not in ours

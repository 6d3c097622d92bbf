"""A challenge ranked by the mean per-class (balanced) error, the metric added through the
registry alone: its board on the page, in the API and in the CSV, its ranking against a plain
Python one, and its history. Scores recorded before the metric existed have none: they show a
dash and rank after every entry that has one."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re

import pytest
from django.urls import reverse

from leaderboard import selectors
from leaderboard.metrics import BALANCED
from leaderboard.models import Challenge, Score, Submission
from tests.leaderboard.factories import make_edition, make_scored, make_team

pytestmark = pytest.mark.django_db


def scored(edition, team, *, top1, balanced, private=None, **fields) -> Submission:
    """An entry whose balanced error is ``balanced`` on the public part and ``private`` on the
    private part (None: scored before the metric existed)."""
    submission = make_scored(edition=edition, team=team, top1=top1, top5=top1 / 3, **fields)
    Score.objects.filter(submission=submission).update(
        public_balanced_error=balanced,
        private_balanced_error=balanced if private is None else private,
        balanced_error=balanced,
    )
    return submission


@pytest.fixture
def ranked_by_balanced(challenge) -> Challenge:
    Challenge.objects.filter(pk=challenge.pk).update(primary_metric="balanced")
    challenge.refresh_from_db()
    return challenge


@pytest.fixture
def board(ranked_by_balanced):
    """Rare classes right beats a higher top-1 accuracy; an old entry without the metric."""
    edition = make_edition(challenge=ranked_by_balanced)
    start = edition.opens_at
    rare = make_team(edition=edition, name="rare")
    scored(edition, rare, top1=0.30, balanced=0.20, created_at=start)
    best = scored(edition, rare, top1=0.31, balanced=0.12, created_at=start + dt.timedelta(hours=1))
    majority = scored(
        edition, make_team(edition=edition, name="majority"), top1=0.10, balanced=0.35
    )
    old = scored(edition, make_team(edition=edition, name="old"), top1=0.05, balanced=None)
    baseline = scored(edition, None, top1=0.4, balanced=0.25, baseline=True, method="LeNet")
    return edition, [best, majority, old], baseline


def test_the_page_ranks_by_balanced_error_and_shows_it_first(client, board):
    edition, (best, majority, old), baseline = board
    html = client.get(edition.get_absolute_url()).content.decode()

    head = re.findall(r'<th class="num" data-metric="(\w+)"', html)
    assert head == ["balanced", "top1", "top5"]  # the ranked metric first, then the others
    assert "Mean per-class error" in html and "rank after the others" in html
    order = re.findall(r'data-submission="([0-9a-f-]+)"', html)
    assert order == [str(best.pk), str(baseline.pk), str(majority.pk), str(old.pk)]
    assert '<td class="num strong balanced">12.00%</td>' in html
    assert '<td class="num strong balanced">\u2013</td>' in html  # the old entry: a dash, last
    board_rows = selectors.edition_leaderboard(edition=edition).rows
    assert [r.position for r in board_rows if not r.is_baseline] == [1, 2, 3]


def test_the_api_and_the_csv_carry_the_same_ranking(client, board):
    edition, _, _ = board
    url = reverse("api:leaderboard", args=[edition.challenge.slug, edition.slug])

    body = client.get(url).json()
    assert body["metric"] == "balanced"
    got = [(r["method_name"], r["position"], r["balanced_error"]) for r in body["results"]]
    assert [g[2] for g in got] == [0.12, 0.25, 0.35, None]
    assert all(
        {"top1_error", "top5_error", "balanced_error", "robust_error"} <= set(r)
        for r in body["results"]
    )

    rows = list(csv.DictReader(io.StringIO(client.get(url, {"format": "csv"}).content.decode())))
    assert [r["balanced_error"] for r in rows] == ["0.12", "0.25", "0.35", ""]
    assert [r["position"] for r in rows] == [
        "" if r["is_baseline"] else str(r["position"]) for r in body["results"]
    ]  # a baseline has no position in the CSV, its "baseline" cell says which it is
    assert [r["baseline"] for r in rows] == [str(r["is_baseline"]) for r in body["results"]]
    assert rows[0]["top1_error"] == "0.31"  # the others beside it


def test_the_closed_board_and_the_exports_rank_the_private_part(client, ranked_by_balanced):
    edition = make_edition(challenge=ranked_by_balanced, open_now=False)
    first = make_team(edition=edition, name="first")
    scored(edition, first, top1=0.2, balanced=0.30, private=0.10, is_final=True)
    scored(edition, make_team(edition=edition, name="second"), top1=0.1, balanced=0.05, private=0.2)

    board = selectors.edition_leaderboard(edition=edition)

    assert board.phase == "private"
    assert [(r.team_name, r.metric_value) for r in board.rows] == [("first", 0.1), ("second", 0.2)]
    standings = selectors.exports.export_standings(edition=edition)
    assert [(r["team"], r["private_balanced_error"]) for r in standings] == [
        ("first", 0.1),
        ("second", 0.2),
    ]
    columns = selectors.exports.standings_columns(edition=edition)
    assert columns.index("private_balanced_error") < columns.index("private_top1_error")


def expected(submissions: list[Submission], *, phase: str) -> list[tuple[str, int]]:
    """The ranking rules in plain Python: a missing value after every present one."""

    def order(s: Submission, part: str) -> tuple:
        value = getattr(s.score, f"{part}_balanced_error")
        return (*BALANCED.sort_key(value), s.created_at, str(s.pk))

    ranked = [s for s in submissions if s.moderation in ("", "flagged")]
    teams: dict[int, list[Submission]] = {}
    for s in ranked:
        if not s.is_baseline:
            teams.setdefault(s.team_id, []).append(s)
    rows = [s for s in ranked if s.is_baseline]
    for entries in teams.values():
        best_public = min(entries, key=lambda s: order(s, "public"))
        finals = [s for s in entries if s.is_final]
        if phase == "private" and finals:
            rows.append(min(finals, key=lambda s: order(s, "private")))
        else:
            rows.append(best_public)
    rows.sort(key=lambda s: order(s, phase))
    positions = {True: 0, False: 0}
    out = []
    for s in rows:
        positions[s.is_baseline] += 1
        out.append((str(s.pk), positions[s.is_baseline]))
    return out


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("phase", ["public", "private"])
def test_the_ranking_with_missing_values_matches_plain_python(challenge, seed, phase):
    rng = random.Random(seed)
    edition = make_edition(challenge=challenge)
    start = edition.opens_at
    submissions = []
    for t in range(12):
        team = make_team(edition=edition, name=f"t{t}")
        for _ in range(rng.randint(1, 4)):
            value = None if rng.random() < 0.4 else rng.choice([0.1, 0.2, 0.3, rng.random()])
            submissions.append(
                scored(
                    edition,
                    team,
                    top1=rng.random(),
                    balanced=value,
                    private=None if value is None else rng.random(),
                    created_at=start + dt.timedelta(minutes=rng.randint(0, 5)),
                    is_final=rng.random() < 0.3,
                    moderation=rng.choice(["", "", "", "flagged", "hidden"]),
                )
            )
    for k in range(3):
        value = None if k == 2 else rng.random()
        submissions.append(scored(edition, None, top1=0.5, balanced=value, baseline=True))
    for s in submissions:
        s.refresh_from_db()

    rows = selectors.leaderboard_rows(edition=edition, phase=phase, metric="balanced")

    assert [(str(r.pk), r.position) for r in rows] == expected(submissions, phase=phase)


def test_the_history_ranks_each_edition_by_balanced_error(client, ranked_by_balanced):
    edition = make_edition(challenge=ranked_by_balanced, year=2024, open_now=False)
    scored(edition, make_team(edition=edition, name="accurate"), top1=0.05, balanced=0.4)
    scored(edition, make_team(edition=edition, name="balanced"), top1=0.20, balanced=0.1)
    scored(edition, make_team(edition=edition, name="old"), top1=0.01, balanced=None)

    (row,) = selectors.challenge_history(challenge=ranked_by_balanced).years
    (summary,) = row.editions

    assert (summary.winner.team, summary.runner_up.team) == ("balanced", "accurate")
    assert summary.best_balanced == 0.1 and summary.best_top1 == 0.01  # over every team's row
    body = client.get(f"/api/challenges/{ranked_by_balanced.slug}/history/").json()
    winner = body["years"][0]["editions"][0]["winner"]
    assert (body["metric"], winner["team"], winner["balanced_error"]) == (
        "balanced",
        "balanced",
        0.1,
    )
    html = client.get(ranked_by_balanced.get_absolute_url()).content.decode()
    assert "ranked by mean per-class error" in html and "per-class <b>10.00%</b>" in html

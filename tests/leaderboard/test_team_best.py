"""The stored per-team best (``selectors.team_best``) against the live ranking it replaces.

After every path that changes who is on a board (a score recorded, a re-run and its new score,
a moderation, a baseline switched off, finals chosen, a submission or team deleted, a bulk load,
parallel scorings of one team), the stored rows must equal the best public entry per team and
metric that a plain Python reading of the rules picks (ties: the earlier submission, then the
smaller id), and every page's rows must be those the live query gives (``_stored`` off).
"""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leaderboard import charts, selectors, services
from leaderboard.metrics import LAST, PUBLIC
from leaderboard.models import Edition, Score, Submission, Team
from leaderboard.selectors import ranking
from leaderboard.selectors.robustness import robustness_board
from leaderboard.selectors.team_best import (
    stored_metrics,
    team_best_deferred,
    team_best_ready,
    team_best_rebuild,
)
from leaderboard.services import host_control

from .factories import make_edition, make_scored, make_team, make_user
from .test_concurrency import run_in_threads

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="stored on PostgreSQL only"),
]
Status = Submission.Status
RANKABLE = (Status.SCORED, Status.QUEUED, Status.RUNNING)


def stored(edition) -> dict[tuple[int, str], str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT team_id, metric, submission_id FROM leaderboard_team_best"
            " WHERE edition_id = %s",
            [edition.pk],
        )
        return {(team, metric): str(pk) for team, metric, pk in cursor.fetchall()}


def expected(edition) -> dict[tuple[int, str], str]:
    """Per team and stored metric, its best public entry by the rules, in Python."""
    scores = list(
        Score.objects.filter(team__edition=edition).select_related("submission").order_by("pk")
    )
    best = {}
    for metric in stored_metrics():
        column = metric.column(PUBLIC)
        for team_id in {s.team_id for s in scores}:
            ranked = [
                s
                for s in scores
                if s.team_id == team_id
                and s.submission.status in RANKABLE
                and s.submission.moderation in ("", "flagged")
            ]
            valued = [s for s in ranked if getattr(s, column) is not None]
            if valued:
                pick = min(
                    valued, key=lambda s: (getattr(s, column), s.submitted_at, str(s.submission_id))
                )
            elif metric.unscored == LAST and any(s.public_n_images > 0 for s in ranked):
                pick = min(
                    (s for s in ranked if s.public_n_images > 0),
                    key=lambda s: (s.submitted_at, str(s.submission_id)),
                )
            else:
                continue
            best[(team_id, metric.key)] = str(pick.submission_id)
    return best


def live(monkeypatch, read):
    """What ``read()`` gives from the live query, the stored bests left unread."""
    with monkeypatch.context() as patch:
        patch.setattr(ranking, "_stored", lambda ranking: False)
        return read()


def board(edition, **kwargs) -> list[tuple]:
    rows = selectors.edition_leaderboard(edition=edition, **kwargs).rows
    return [
        (str(r.pk), r.position, r.row_index, r.total_rows, r.metric_value, r.team_entries)
        for r in rows
    ]


def pages(edition) -> dict[str, object]:
    """Every read the stored bests serve: the board (a page and all of it, and the public
    board after the close), the charts' points, the robustness board, the history's cloud."""
    history = selectors.challenge_history(challenge=edition.challenge)
    return {
        "years": history.years,
        "page": board(edition, page=1),
        "all": board(edition),
        "public": board(edition, phase=PUBLIC),
        "points": selectors.edition_efficiency(edition=edition),
        "robust": [str(r.pk) for r in robustness_board(edition=edition).rows],
        "cloud": selectors.challenge_history_points(
            challenge=edition.challenge,
            parts=history.parts,
            frozen=history.frozen,
            editions=history.editions,
            boards=history.boards,
        ),
    }


def check(edition, monkeypatch) -> dict:
    edition.refresh_from_db()
    assert stored(edition) == expected(edition)
    shown = pages(edition)
    assert shown == live(monkeypatch, lambda: pages(edition))
    return shown


def staff_user(name: str = "staff"):
    user = make_user(name)
    user.is_staff = user.is_superuser = True
    user.save()
    return user


def result(*, top5: float, top1: float = 0.5) -> dict:
    return {
        "top1_error": top1,
        "top5_error": top5,
        "n_images": 8,
        "public": {"top1_error": top1, "top5_error": top5, "n_images": 4},
        "private": {"top1_error": top1, "top5_error": top5, "n_images": 4},
    }


def running(edition, team, *, created_at=None) -> Submission:
    return Submission.objects.create(
        edition=edition,
        team=team,
        method_name="run",
        status=Status.RUNNING,
        attempts=1,
        file=f"submissions/{edition.pk}/x",
        created_at=created_at or timezone.now(),
    )


def record(submission, *, top5: float, top1: float = 0.5) -> None:
    submission.refresh_from_db()
    assert services.score_record(
        submission_id=submission.pk,
        attempt=submission.attempts,
        result=result(top5=top5, top1=top1),
    )


def test_the_boards_read_the_stored_bests(edition):
    assert team_best_ready()
    make_scored(edition=edition, team=make_team(edition=edition, name="a"), top1=0.2, top5=0.1)
    with CaptureQueriesContext(connection) as queries:
        selectors.edition_leaderboard(edition=edition, page=1)
    (board,) = [q["sql"] for q in queries.captured_queries if "board.row_index" in q["sql"]]
    assert "leaderboard_team_best tb" in board


def test_every_path_keeps_the_stored_bests_and_the_pages_exact(edition, monkeypatch):
    staff = staff_user()
    now = timezone.now()
    a, b, c = (make_team(edition=edition, name=name) for name in "abc")
    # Ties: a's two best share the value (the earlier wins); b's share value and time too (the
    # smaller id wins).
    a_later = make_scored(edition=edition, team=a, top1=0.3, top5=0.1, created_at=now)
    a_first = make_scored(
        edition=edition, team=a, top1=0.3, top5=0.1, created_at=now - dt.timedelta(hours=1)
    )
    b_one = make_scored(edition=edition, team=b, top1=0.2, top5=0.2, created_at=now)
    b_two = make_scored(edition=edition, team=b, top1=0.2, top5=0.2, created_at=now)
    make_scored(edition=edition, team=b, top1=0.25, top5=0.3)
    make_scored(edition=edition, team=None, baseline=True, top1=0.4, top5=0.15, method="base")
    check(edition, monkeypatch)
    assert stored(edition)[(a.pk, "top5")] == str(a_first.pk)
    assert stored(edition)[(b.pk, "top5")] == str(min(b_one.pk, b_two.pk, key=str))

    # A score recorded by the worker's service.
    c_run = running(edition, c)
    check(edition, monkeypatch)
    assert (c.pk, "top5") not in stored(edition)
    record(c_run, top5=0.05)
    assert check(edition, monkeypatch)["page"][0][0] == str(c_run.pk)

    # Moderation: hidden, disqualified, flagged (still ranked), restored.
    for action, reason in (("hidden", "copied"), ("disqualified", "cheat"), ("flagged", "odd")):
        services.submission_moderate(submission=a_first, by=staff, action=action, reason=reason)
        check(edition, monkeypatch)
        ranked = stored(edition)[(a.pk, "top5")] == str(a_first.pk)
        assert ranked == (action == "flagged")
    services.submission_moderate(submission=a_first, by=staff, action="", reason="")
    check(edition, monkeypatch)

    # A re-run: ranked with its old score while queued, then with the new one (superseded).
    host_control.submissions_rerun(edition=edition, by=staff, submission_ids=[c_run.pk])
    check(edition, monkeypatch)
    assert stored(edition)[(c.pk, "top5")] == str(c_run.pk)
    job = services.submission_start(submission_id=c_run.pk, worker="w")
    assert job is not None
    record(c_run, top5=0.6)
    check(edition, monkeypatch)

    # A failed run, a baseline switched off, finals chosen.
    failing = running(edition, a)
    assert services.score_record(submission_id=failing.pk, attempt=1, error_code="bad")
    baseline = Submission.objects.get(edition=edition, is_baseline=True)
    services.baseline_switch(submission=baseline, by=staff, shown=False)
    check(edition, monkeypatch)
    Submission.objects.filter(pk=a_later.pk).update(is_final=True)
    check(edition, monkeypatch)

    # A submission deleted in the admin, and a whole team.
    from django.test import Client

    client = Client()
    client.force_login(staff)
    url = reverse("admin:leaderboard_submission_delete", args=[a_first.pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    check(edition, monkeypatch)
    assert stored(edition)[(a.pk, "top5")] == str(a_later.pk)
    Team.objects.get(pk=b.pk).delete()
    check(edition, monkeypatch)
    assert {team for team, _ in stored(edition)} == {a.pk, c.pk}


def test_a_closed_edition_ranks_finals_on_the_private_part_as_before(challenge, monkeypatch):
    edition = make_edition(challenge=challenge, open_now=False)
    teams = [make_team(edition=edition, name=f"t{i}") for i in range(4)]
    for i, team in enumerate(teams):
        for j in range(3):
            make_scored(
                edition=edition,
                team=team,
                top1=0.1 * (i + j + 1),
                top5=0.05 * ((i + j) % 3 + 1),
                private=(0.3, 0.05 * ((i * j) % 4 + 1)),
                is_final=(i % 2 == 0 and j == 2),
            )
    shown = check(edition, monkeypatch)
    assert shown["all"] and shown["all"] != shown["public"]


def test_a_frozen_board_ranks_live_as_at_the_freeze(edition, monkeypatch):
    team = make_team(edition=edition, name="t")
    before = make_scored(edition=edition, team=team, top1=0.5, top5=0.3)
    edition.board_frozen_at = timezone.now()
    edition.save()
    later = make_scored(edition=edition, team=team, top1=0.5, top5=0.1)
    Score.objects.filter(submission=later).update(created_at=timezone.now() + dt.timedelta(1))
    assert stored(edition)[(team.pk, "top5")] == str(later.pk)  # the live best, kept
    rows = selectors.edition_leaderboard(edition=edition).rows
    assert [r.pk for r in rows] == [before.pk]  # the board shows the freeze's
    check(edition, monkeypatch)


@pytest.mark.parametrize("old_closed", [True, False])
def test_many_teams_and_the_history_of_several_editions(challenge, monkeypatch, old_closed):
    old = make_edition(challenge=challenge, year=2024, open_now=not old_closed)
    edition = make_edition(challenge=challenge, year=2025)
    start = timezone.now() - dt.timedelta(days=3)
    for year, ed in enumerate((old, edition)):
        teams = [make_team(edition=ed, name=f"{year}-{i}") for i in range(30)]
        for i in range(150):
            make_scored(
                edition=ed,
                team=teams[(i * 7) % 30],
                top1=round(0.1 + (i * 13 % 17) / 40, 3),
                top5=round(0.05 + (i * 11 % 7) / 50, 3),  # many ties
                created_at=start + dt.timedelta(minutes=(i * 37) % 300),
                moderation="hidden" if i % 19 == 0 else "",
            )
    check(edition, monkeypatch)
    check(old, monkeypatch)


def test_a_bulk_load_and_the_rebuild_command(edition, monkeypatch):
    teams = [make_team(edition=edition, name=f"t{i}") for i in range(5)]
    with team_best_deferred(edition_ids=[edition.pk]):
        for i in range(20):
            make_scored(edition=edition, team=teams[i % 5], top1=0.5 - i / 100, top5=0.3)
        assert stored(edition) == {}  # the triggers waited for the end of the load
    check(edition, monkeypatch)

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM leaderboard_team_best")
    assert stored(edition) == {}
    out = StringIO()
    call_command("team_best_rebuild", stdout=out)
    assert "stored" in out.getvalue()
    check(edition, monkeypatch)
    assert team_best_rebuild(edition_ids=[edition.pk]) == len(expected(edition))


@pytest.mark.django_db(transaction=True)
def test_parallel_scores_of_one_team_leave_its_best_exact(challenge, monkeypatch):
    edition = make_edition(challenge=challenge)
    team = make_team(edition=edition, name="t")
    made = [running(edition, team) for _ in range(6)]
    values = [0.3, 0.1, 0.25, 0.1, 0.05, 0.2]
    results = run_in_threads(6, lambda i: record(made[i], top5=values[i]))
    assert results == [None] * 6, results
    check(edition, monkeypatch)
    assert stored(edition)[(team.pk, "top5")] == str(made[4].pk)


def test_a_crowded_editions_efficiency_charts_draw_its_most_accurate_teams(edition, monkeypatch):
    teams = [make_team(edition=edition, name=f"t{i}") for i in range(5)]
    record = {"params": 1000, "params_source": "file"}
    for i, team in enumerate(teams):
        make_scored(edition=edition, team=team, top1=0.5 - i / 20, top5=0.1, record=record)
    make_scored(edition=edition, team=None, baseline=True, top1=0.9, top5=0.5, record=record)
    points = selectors.edition_efficiency(edition=edition, cap=3)
    assert points.teams == 5 and points.capped
    drawn = {p.team for p in points if not p.is_baseline}
    assert drawn == {"t4", "t3", "t2"}  # the lowest top-1 errors
    assert sum(p.is_baseline for p in points) == 1
    assert points == live(monkeypatch, lambda: selectors.edition_efficiency(edition=edition, cap=3))
    chart = charts.efficiency_chart(edition=edition, points=points, x_field="params", phase=PUBLIC)
    assert "The 3 most accurate of 5 teams are drawn." in chart.subtitle
    everyone = selectors.edition_efficiency(edition=edition)
    assert everyone.teams == 5 and not everyone.capped
    chart = charts.efficiency_chart(
        edition=edition, points=everyone, x_field="params", phase=PUBLIC
    )
    assert "most accurate of" not in chart.subtitle


@pytest.mark.django_db(transaction=True)  # the seeding ends with VACUUM, outside a transaction
def test_the_bench_seeds_with_the_bests_stored_and_times_a_kept_edition_again(capsys, monkeypatch):
    common = ["--requests=1", "--slug=bench-tb", "--pages", "leaderboard"]
    call_command("bench_leaderboard", "--submissions=200", "--teams=9", "--keep", *common)
    edition = Edition.objects.get(challenge__slug="bench-tb")
    assert len(stored(edition)) == 9 * 3  # every team: top-1, top-5 and per-class (ranked last)
    check(edition, monkeypatch)
    capsys.readouterr()
    call_command("bench_leaderboard", "--reuse", *common)
    out = capsys.readouterr().out
    assert "reusing the edition seeded under 'bench-tb'" in out and "load average" in out
    assert "seeded" not in out.replace("seeded under", "")
    assert Edition.objects.get(challenge__slug="bench-tb").pk == edition.pk  # not seeded again

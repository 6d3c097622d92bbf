"""The robustness leaderboard: against an independent Python ranking, in constant queries."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.urls import reverse
from django.utils import timezone

from leaderboard.models import Score, Submission
from leaderboard.selectors.robustness import robustness_board, robustness_rows

from .factories import make_edition, make_scored, make_team
from .ranking_reference import RANKED

pytestmark = pytest.mark.django_db


def make_robust(*, robust: tuple[float, float] | None, **kwargs) -> Submission:
    """A scored submission whose score has robust errors (public, private), or none."""
    submission = make_scored(**kwargs)
    if robust is not None:
        Score.objects.filter(submission=submission).update(
            public_robust_error=robust[0],
            private_robust_error=robust[1],
            robust_error=sum(robust) / 2,
        )
    return submission


def random_board(edition, *, seed: int, teams: int = 12, entries: int = 90) -> list[Submission]:
    """Coarse errors (ties happen), equal times, finals, moderation, some never robust-scored."""
    rng = random.Random(seed)
    start = timezone.now() - dt.timedelta(days=10)
    made_teams = [make_team(edition=edition, name=f"team{i}") for i in range(teams)]
    made = []
    for _ in range(entries):
        is_baseline = rng.random() < 0.1
        made.append(
            make_robust(
                edition=edition,
                team=None if is_baseline else rng.choice(made_teams),
                baseline=is_baseline,
                top1=rng.randint(0, 20) / 20,
                top5=rng.randint(0, 10) / 20,
                robust=None
                if rng.random() < 0.15
                else (rng.randint(0, 20) / 20, rng.randint(0, 20) / 20),
                created_at=start + dt.timedelta(minutes=rng.randint(0, 40)),
                is_final=not is_baseline and rng.random() < 0.2,
                moderation=rng.choice(["", "", "", "", "flagged", "hidden", "disqualified"]),
            )
        )
    return list(Submission.objects.filter(pk__in=[s.pk for s in made]).select_related("score"))


def team_rows(submissions: list[Submission], *, phase: str) -> list[Submission]:
    """The leaderboard's rules (``ranking_reference``) on the robust error, where a team's finals
    count only if they were scored for robustness (else its best public robust entry stands in:
    finals chosen before the track was on do not drop the team)."""
    key, public_key = f"{phase}_robust_error", "public_robust_error"
    by_team: dict[int, list[Submission]] = {}
    for s in submissions:
        if not s.is_baseline and s.moderation in RANKED:
            by_team.setdefault(s.team_id, []).append(s)
    rows = []
    for entries in by_team.values():
        public = [s for s in entries if getattr(s.score, public_key) is not None]
        public.sort(key=lambda s: (getattr(s.score, public_key), s.created_at, str(s.pk)))
        finals = [s for s in entries if s.is_final and getattr(s.score, key) is not None]
        candidates = public[:1] if phase == "public" else (finals or public[:1])
        candidates = [s for s in candidates if getattr(s.score, key) is not None]
        if candidates:
            rows.append(
                min(candidates, key=lambda s: (getattr(s.score, key), s.created_at, str(s.pk)))
            )
    return rows


def expected(submissions: list[Submission], *, phase: str) -> list[tuple]:
    key = f"{phase}_robust_error"
    rows = team_rows(submissions, phase=phase)
    rows += [
        s
        for s in submissions
        if s.is_baseline and s.moderation in RANKED and getattr(s.score, key) is not None
    ]
    rows.sort(key=lambda s: (getattr(s.score, key), s.created_at, str(s.pk)))
    positions = {True: 0, False: 0}
    ranked = []
    for s in rows:
        positions[s.is_baseline] += 1
        ranked.append((str(s.pk), positions[s.is_baseline], getattr(s.score, key)))
    return ranked


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("phase", ["public", "private"])
def test_ranking_matches_an_independent_computation(challenge, seed, phase):
    edition = make_edition(challenge=challenge)
    submissions = random_board(edition, seed=seed)

    rows = robustness_rows(edition=edition, phase=phase)

    assert [(str(r.pk), r.position, r.robust_value) for r in rows] == expected(
        submissions, phase=phase
    )
    by_id = {s.pk: s for s in submissions}
    for row in rows:
        score = by_id[row.pk].score
        assert row.clean_top1 == getattr(score, f"{phase}_top1_error")
        assert row.total_rows == len(rows)
        if row.clean_top1:
            assert row.relative_increase == pytest.approx(
                (row.robust_value - row.clean_top1) / row.clean_top1
            )
        else:
            assert row.relative_increase is None


def test_a_team_is_ranked_by_its_most_robust_entry_not_its_most_accurate(challenge):
    edition = make_edition(challenge=challenge)
    team = make_team(edition=edition, name="t")
    make_robust(edition=edition, team=team, top1=0.10, top5=0.02, robust=(0.60, 0.60))
    robust = make_robust(edition=edition, team=team, top1=0.20, top5=0.05, robust=(0.30, 0.40))
    rows = robustness_rows(edition=edition, phase="public")
    assert [r.pk for r in rows] == [robust.pk]
    assert rows[0].relative_increase == pytest.approx(0.5)


def test_closed_edition_ranks_finals_on_the_private_part(challenge):
    edition = make_edition(challenge=challenge, open_now=False)
    team = make_team(edition=edition, name="t")
    make_robust(edition=edition, team=team, top1=0.1, top5=0.1, robust=(0.1, 0.5))
    final = make_robust(
        edition=edition, team=team, top1=0.1, top5=0.1, robust=(0.3, 0.45), is_final=True
    )
    board = robustness_board(edition=edition)
    assert board.phase == "private"
    assert [(r.pk, r.robust_value) for r in board.rows] == [(final.pk, 0.45)]
    assert robustness_board(edition=edition, phase="public").rows[0].robust_value == 0.1


def test_pages_of_the_board(challenge, settings, monkeypatch):
    from leaderboard.selectors import robustness

    monkeypatch.setattr(robustness, "PAGE_SIZE", 3)
    edition = make_edition(challenge=challenge)
    for i in range(7):
        team = make_team(edition=edition, name=f"t{i}")
        make_robust(edition=edition, team=team, top1=0.2, top5=0.1, robust=(i / 10, i / 10))
    board = robustness_board(edition=edition, page=3)
    assert (board.total, board.pages, len(board.rows)) == (7, 3, 1)
    assert board.rows[0].position == 7


def seed_teams(edition, *, n: int) -> None:
    for i in range(n):
        team = make_team(edition=edition, name=f"team{i}")
        for j in range(3):
            make_robust(
                edition=edition,
                team=team,
                top1=0.3,
                top5=0.1,
                robust=((i + j) / (3 * n), 0.5),
                method=f"m{i}-{j}",
            )
    make_robust(edition=edition, team=None, baseline=True, top1=0.4, top5=0.2, robust=(0.5, 0.5))


@pytest.mark.parametrize("n", [3, 30])
def test_page_costs_the_same_queries_at_any_size(client, challenge, django_assert_num_queries, n):
    edition = make_edition(challenge=challenge)
    seed_teams(edition, n=n)
    url = reverse("edition_robustness", args=[challenge.slug, edition.slug])
    # the edition (with its challenge), the board, how many entries wait for their robustness run
    with django_assert_num_queries(3):
        response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-submission="') == n + 1
    assert "ImageNet-C" in html and "Hendrycks" in html
    assert "baseline" in html


def test_page_past_the_end_is_not_found_and_an_empty_board_says_so(client, challenge):
    edition = make_edition(challenge=challenge)
    url = reverse("edition_robustness", args=[challenge.slug, edition.slug])
    assert client.get(url, {"page": 2}).status_code == 404
    html = client.get(url).content.decode()
    assert "No submission scored for robustness yet." in html
    assert "not scored for this challenge" in html  # the track is off for this challenge


def test_the_leaderboard_rows_carry_the_robust_error_of_their_phase(challenge, client):
    edition = make_edition(challenge=challenge, open_now=False)
    team = make_team(edition=edition, name="t")
    robust = make_robust(edition=edition, team=team, top1=0.1, top5=0.05, robust=(0.3, 0.35))
    make_robust(edition=edition, team=None, baseline=True, top1=0.2, top5=0.1, robust=None)
    from leaderboard import selectors

    rows = {
        r.pk: r for r in selectors.leaderboard_rows(edition=edition, phase="private", metric="top5")
    }
    assert rows[robust.pk].robust_value == 0.35
    assert [r.robust_value for r in rows.values() if r.is_baseline] == [None]
    public = selectors.leaderboard_rows(edition=edition, phase="public", metric="top5")
    assert {r.pk: r.robust_value for r in public}[robust.pk] == 0.3

    url = f"/api/challenges/{challenge.slug}/editions/{edition.slug}/leaderboard/"
    results = client.get(url).json()["results"]
    assert sorted(r["robust_error"] for r in results if r["robust_error"] is not None) == [0.35]
    assert [r["robust_error"] for r in results if r["is_baseline"]] == [None]


def test_the_challenge_page_links_each_editions_robustness_board(challenge, client):
    edition = make_edition(challenge=challenge)
    url = reverse("edition_robustness", args=[challenge.slug, edition.slug])
    page = reverse("challenge_detail", args=[challenge.slug])
    assert url not in client.get(page).content.decode()
    challenge.robustness = True
    challenge.save(update_fields=["robustness"])
    html = client.get(page).content.decode()
    assert url in html and "Robustness track" in html


@pytest.mark.parametrize("n", [3, 30])
def test_the_leaderboard_page_shows_a_robust_column_when_the_track_is_on(
    client, challenge, django_assert_num_queries, n
):
    edition = make_edition(challenge=challenge)
    seed_teams(edition, n=n)
    url = reverse("edition_leaderboard", args=[challenge.slug, edition.slug])
    board_url = reverse("edition_robustness", args=[challenge.slug, edition.slug])
    html = client.get(url).content.decode()
    assert "Robust error" not in html and board_url not in html
    challenge.robustness = True
    challenge.save(update_fields=["robustness"])
    # still the edition, the ranking, the announcements and the pending baselines: none added
    with django_assert_num_queries(4):
        html = client.get(url).content.decode()
    assert "Robust error" in html and board_url in html
    assert html.count('class="num robust"') == n + 1
    assert '<td class="num robust">50.00%</td>' in html  # the baseline's public robust error

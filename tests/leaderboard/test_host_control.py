"""A host's controls (issue 16, section 3): re-run entries, pause uploads, freeze the board.

Through the real services, queue (Redis), database and pages: a re-run records a new score
and keeps the old one with its fingerprint, the board ranks the newest, the team's limits do
not move; a paused edition refuses uploads from the web form and the API until the host
resumes; a frozen public board keeps the freeze-time standings while the team sees its new
score, until the close reveals the private board; only the host (and staff) may do any of it.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from leaderboard import selectors, services
from leaderboard.api import tokens
from leaderboard.errors import PLATFORM_ERROR, ClassroomRefused
from leaderboard.metrics import PRIVATE, PUBLIC
from leaderboard.models import Score, Submission, SupersededScore
from leaderboard.selectors.quota import quota_usage
from leaderboard.selectors.score_history import submission_score_history
from leaderboard.services import host_control

from . import ranking_reference
from .conftest import queued_ids
from .factories import make_edition, make_scored, make_team, make_user, onnx_upload

pytestmark = pytest.mark.django_db
Status = Submission.Status


def result(*, public: tuple[float, float], private: tuple[float, float], fingerprint: str):
    """An evaluator result as ``score --json`` reports it (4 + 4 images)."""
    return {
        "top1_error": (public[0] + private[0]) / 2,
        "top5_error": (public[1] + private[1]) / 2,
        "n_images": 8,
        "public": {"top1_error": public[0], "top5_error": public[1], "n_images": 4},
        "private": {"top1_error": private[0], "top5_error": private[1], "n_images": 4},
        "dataset_fingerprint": fingerprint,
        "model_sha256": "ab" * 32,
    }


OLD = result(public=(0.5, 0.25), private=(0.5, 0.5), fingerprint="fp-before-fix")
NEW = result(public=(0.25, 0.0), private=(0.75, 0.25), fingerprint="fp-after-fix")


def score_once(submission_id, res: dict) -> None:
    """What a worker does: claim the queued submission, record the evaluator's result."""
    job = services.submission_start(submission_id=submission_id, worker="w")
    assert job is not None
    assert services.score_record(submission_id=submission_id, attempt=job.attempt, result=res)


@pytest.fixture
def host(db, edition):
    host = make_user("host")
    edition.host = host
    edition.save(update_fields=["host"])
    return host


@pytest.mark.django_db(transaction=True)
def test_a_rerun_records_a_new_score_and_keeps_the_old_one(edition, user, host, gpu_queue):
    submission = services.submission_create(
        edition=edition, user=user, upload=onnx_upload(), method_name="m"
    )
    score_once(submission.pk, OLD)
    usage = quota_usage(edition=edition, user=user)
    gpu_queue.delete("gpu")

    queued = host_control.submissions_rerun(
        edition=edition, by=host, submission_ids=[submission.pk]
    )

    assert queued == [str(submission.pk)]
    assert queued_ids(gpu_queue) == [str(submission.pk)]  # the normal queue
    submission.refresh_from_db()
    assert (submission.status, submission.reruns) == (Status.QUEUED, 1)
    # Until the new score is in, the board keeps the old one.
    (row,) = selectors.leaderboard_rows(edition=edition, phase=PUBLIC, metric="top5")
    assert row.pk == submission.pk and row.metric_value == 0.25

    score_once(submission.pk, NEW)

    score = Score.objects.get(submission=submission)
    assert (score.public_top5_error, score.record["dataset_fingerprint"]) == (0.0, "fp-after-fix")
    (old,) = SupersededScore.objects.filter(submission=submission)
    assert (old.public_top5_error, old.private_top1_error) == (0.25, 0.5)
    assert old.dataset_fingerprint == "fp-before-fix" and old.record == OLD
    assert old.scored_at < old.superseded_at == score.created_at
    (row,) = selectors.leaderboard_rows(edition=edition, phase=PUBLIC, metric="top5")
    assert row.metric_value == 0.0  # the newest ranks
    (row,) = selectors.leaderboard_rows(edition=edition, phase=PRIVATE, metric="top5")
    assert row.metric_value == 0.25
    assert quota_usage(edition=edition, user=user) == usage  # the re-run cost nothing
    history = submission_score_history(submission=submission)
    assert [(e.fingerprint, e.current) for e in history] == [
        ("fp-after-fix", True),
        ("fp-before-fix", False),
    ]
    assert [e.values["top5"] for e in history] == [0.0, 0.25]


@pytest.mark.django_db(transaction=True)
def test_a_rerun_counts_its_attempts_afresh(edition, user, host, gpu_queue, settings):
    settings.SCORING_MAX_ATTEMPTS = 1
    submission = services.submission_create(
        edition=edition, user=user, upload=onnx_upload(), method_name="m"
    )
    score_once(submission.pk, OLD)  # the one attempt allowed
    host_control.submissions_rerun(edition=edition, by=host, submission_ids=[submission.pk])
    job = services.submission_start(submission_id=submission.pk, worker="w")
    assert job is not None and job.attempt == 2  # a new number: never an old run's shards
    # A lost re-run is taken back by the sweeper, then failed once its own attempts are used:
    # the entry keeps its score from before, and the failure is in its history.
    Submission.objects.filter(pk=submission.pk).update(
        deadline=timezone.now() - dt.timedelta(seconds=1)
    )
    report = services.submission_sweep()
    assert report.failed == [str(submission.pk)]
    submission.refresh_from_db()
    assert (submission.status, submission.error_code) == (Status.SCORED, "")
    (failure,) = submission.rerun_failures.all()
    assert failure.error_code == PLATFORM_ERROR and failure.attempt == 2
    assert "after 1 attempts" in failure.error_message
    assert Score.objects.get(submission=submission).record["dataset_fingerprint"] == "fp-before-fix"
    # A platform failure of a re-run refunds nothing: the entry had counted, and still does.
    assert quota_usage(edition=edition, user=user).total == 1


def test_ranks_stay_right_with_superseded_scores(edition, host):
    """The one ranking against the plain-Python rules, with re-runs that made entries worse
    and better: exactly one (the current) score per entry is ranked."""
    teams = [make_team(edition=edition, name=f"t{i}") for i in range(4)]
    base = timezone.now() - dt.timedelta(hours=5)
    entries = []
    for i, team in enumerate(teams):
        for j in range(3):
            top5 = 0.1 + 0.07 * ((i * 3 + j * 5) % 7)
            entries.append(
                make_scored(
                    edition=edition,
                    team=team,
                    top1=top5 + 0.2,
                    top5=top5,
                    private=(top5 + 0.15, top5 + 0.05 * j),
                    created_at=base + dt.timedelta(minutes=i * 3 + j),
                    is_final=j == 1,
                )
            )
    for k, submission in enumerate(entries[::2]):
        host_control.submissions_rerun(edition=edition, by=host, submission_ids=[submission.pk])
        new = 0.05 + 0.11 * (k % 5)
        score_once(
            submission.pk, result(public=(new + 0.2, new), private=(new, new), fingerprint="f2")
        )
    assert SupersededScore.objects.count() == len(entries[::2])
    everything = list(Submission.objects.filter(edition=edition).select_related("score"))
    for phase in (PUBLIC, PRIVATE):
        for metric in ("top1", "top5"):
            rows = selectors.leaderboard_rows(edition=edition, phase=phase, metric=metric)
            expected = ranking_reference.team_entries(everything, phase=phase, metric=metric)
            assert [r.pk for r in rows] == [s.pk for s in expected]
            column = ranking_reference.column(phase, metric)
            assert [r.metric_value for r in rows] == [getattr(s.score, column) for s in expected]


def test_rerun_all_final_entries_takes_finals_best_entries_and_baselines(edition, host):
    chooser, other = (make_team(edition=edition, name=n) for n in ("chooser", "other"))
    final = make_scored(edition=edition, team=chooser, top1=0.6, top5=0.4, is_final=True)
    make_scored(edition=edition, team=chooser, top1=0.2, top5=0.1)  # better, not chosen
    best = make_scored(edition=edition, team=other, top1=0.3, top5=0.2)
    make_scored(edition=edition, team=other, top1=0.5, top5=0.3)
    baseline = make_scored(edition=edition, team=None, baseline=True, top1=0.4, top5=0.3)
    queued = host_control.submissions_rerun(edition=edition, by=host, finals=True)
    assert sorted(queued) == sorted(str(s.pk) for s in (final, best, baseline))


def test_a_platform_failure_or_a_running_entry_is_not_rerun(edition, host):
    team = make_team(edition=edition, name="t")
    lost = make_scored(edition=edition, team=team, top1=0.5, top5=0.3)
    Score.objects.filter(submission=lost).delete()
    Submission.objects.filter(pk=lost.pk).update(status=Status.FAILED, error_code=PLATFORM_ERROR)
    running = make_scored(edition=edition, team=team, top1=0.5, top5=0.3)
    Submission.objects.filter(pk=running.pk).update(status=Status.RUNNING)
    assert host_control.submissions_rerun(edition=edition, by=host, submission_ids=[lost.pk]) == []
    assert (
        host_control.submissions_rerun(edition=edition, by=host, submission_ids=[running.pk]) == []
    )
    with pytest.raises(ClassroomRefused, match="at least one"):
        host_control.submissions_rerun(edition=edition, by=host)


@pytest.mark.django_db(transaction=True)
def test_paused_uploads_are_refused_on_the_web_and_the_api_until_resumed(
    client, edition, user, host, gpu_queue
):
    host_control.edition_pause(edition=edition, by=host, paused=True)
    closes = edition.closes_at
    client.force_login(user)
    submit = reverse("submit", args=[edition.challenge.slug, edition.slug])
    page = client.get(submit).content.decode()
    assert "Submissions are paused by the host." in page
    assert re.search(r'<button type="submit" class="button" disabled', page)
    board = client.get(edition.get_absolute_url()).content.decode()
    assert "Submissions are paused by the host." in board
    web = client.post(submit, {"file": onnx_upload(), "method_name": "m"})
    assert web.status_code == 400
    assert "Submissions are paused by the host of" in web.content.decode()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {tokens.token_create(user=user).key}")
    url = f"/api/challenges/{edition.challenge.slug}/editions/{edition.slug}/submissions/"
    refused = api.post(url, {"file": onnx_upload(), "method_name": "m"}, format="multipart")
    assert refused.status_code == 400
    assert refused.json()["code"] == "submissions_paused"
    assert "paused by the host" in refused.json()["message"]
    assert not Submission.objects.exists()

    host_control.edition_pause(edition=edition, by=host, paused=False)
    edition.refresh_from_db()
    assert edition.closes_at == closes  # the deadline stayed where it was
    accepted = api.post(url, {"file": onnx_upload(), "method_name": "m"}, format="multipart")
    assert accepted.status_code == 201
    assert "paused" not in client.get(submit).content.decode()
    assert client.post(submit, {"file": onnx_upload(), "method_name": "m2"}).status_code == 302


@pytest.fixture
def frozen_race(edition, host, user):
    """Two teams scored before a freeze an hour ago; then "late" (the user's team) overtakes
    with a new entry, and "early"'s leading entry is re-run to a worse score after the freeze."""
    early = make_team(edition=edition, name="early", users=[make_user("erin")])
    late = make_team(edition=edition, name="late", users=[user])
    lead = make_scored(edition=edition, team=early, top1=0.3, top5=0.2, method="lead")
    make_scored(edition=edition, team=late, top1=0.4, top5=0.3, method="slow")
    two_hours_ago = timezone.now() - dt.timedelta(hours=2)
    Score.objects.update(created_at=two_hours_ago)
    host_control.edition_freeze(
        edition=edition, by=host, frozen_at=timezone.now() - dt.timedelta(hours=1)
    )
    fast = make_scored(
        edition=edition, team=late, top1=0.1, top5=0.05, private=(0.1, 0.02), method="fast"
    )
    host_control.submissions_rerun(edition=edition, by=host, submission_ids=[lead.pk])
    score_once(lead.pk, result(public=(0.6, 0.5), private=(0.6, 0.5), fingerprint="f2"))
    edition.refresh_from_db()
    return {"lead": lead, "fast": fast}


def test_a_frozen_board_keeps_the_freeze_time_standings(client, edition, user, frozen_race):
    board = selectors.edition_leaderboard(edition=edition)
    assert board.frozen_at == edition.board_frozen_at
    assert [(r.team_name, r.method_name, r.metric_value) for r in board.rows] == [
        ("early", "lead", 0.2),  # its score as at the freeze, not the re-run's 0.5
        ("late", "slow", 0.3),
    ]
    # The API's JSON and CSV, and the charts, read the same frozen board.
    url = f"/api/challenges/{edition.challenge.slug}/editions/{edition.slug}/leaderboard/"
    body = APIClient().get(url).json()
    assert body["frozen_at"] is not None
    got = dt.datetime.fromisoformat(body["frozen_at"].replace("Z", "+00:00"))
    assert got == edition.board_frozen_at
    api = body["results"]
    assert [(r["team"], r["top5_error"]) for r in api] == [("early", 0.2), ("late", 0.3)]
    csv = APIClient().get(url, {"format": "csv"}).content.decode()
    assert "fast" not in csv and "lead" in csv
    points = selectors.edition_efficiency(edition=edition)
    assert {p.method for p in points} == {"lead", "slow"}
    history = selectors.challenge_history(challenge=edition.challenge)
    (summary,) = history.years[-1].editions
    assert (summary.winner.method, summary.runner_up.method) == ("lead", "slow")
    cloud = selectors.challenge_history_points(challenge=edition.challenge)
    assert "fast" not in {p.method for p in cloud}
    challenge_page = client.get(edition.challenge.get_absolute_url()).content.decode()
    assert "fast" not in challenge_page
    # The public page says so, and shows no later score to a visitor.
    page = client.get(edition.get_absolute_url()).content.decode()
    assert "The public board is frozen" in page and "fast" not in page
    # The late team sees its own new score, marked, beside the frozen board.
    client.force_login(user)
    mine = client.get(edition.get_absolute_url()).content.decode()
    section = mine[mine.index('id="after-freeze"') :]
    assert "fast" in section and "5.00%" in section and "after the freeze" in section
    detail = client.get(frozen_race["fast"].get_absolute_url()).content.decode()
    assert "after the freeze" in detail


def test_at_the_close_the_private_board_is_revealed(edition, frozen_race):
    after = edition.closes_at + dt.timedelta(seconds=1)
    board = selectors.edition_leaderboard(edition=edition, now=after)
    assert board.phase == PRIVATE and board.frozen_at is None
    assert [(r.team_name, r.method_name, r.metric_value) for r in board.rows] == [
        ("late", "fast", 0.02),
        ("early", "lead", 0.5),  # the re-run's score
    ]
    public = selectors.edition_leaderboard(edition=edition, now=after, phase=PUBLIC)
    assert [r.method_name for r in public.rows] == ["fast", "lead"]  # the freeze is over


def test_a_freeze_that_has_not_started_changes_nothing(edition, host):
    team = make_team(edition=edition, name="t")
    make_scored(edition=edition, team=team, top1=0.3, top5=0.2)
    host_control.edition_freeze(
        edition=edition, by=host, frozen_at=timezone.now() + dt.timedelta(days=1)
    )
    board = selectors.edition_leaderboard(edition=edition)
    assert board.frozen_at is None and len(board.rows) == 1
    with pytest.raises(ClassroomRefused, match="before the edition closes"):
        host_control.edition_freeze(
            edition=edition, by=host, frozen_at=edition.closes_at + dt.timedelta(minutes=1)
        )


def test_the_submission_page_shows_its_score_history(client, edition, user, host):
    team = make_team(edition=edition, name="t", users=[user])
    submission = make_scored(
        edition=edition, team=team, top1=0.5, top5=0.25, record={"dataset_fingerprint": "fp-old"}
    )
    host_control.submissions_rerun(edition=edition, by=host, submission_ids=[submission.pk])
    score_once(submission.pk, NEW)
    client.force_login(user)
    html = client.get(submission.get_absolute_url()).content.decode()
    section = html[html.index('id="score-history"') :]
    rows = re.findall(r'<tr class="(current|superseded)" data-fingerprint="([^"]*)"', section)
    assert rows == [("current", "fp-after-fix"), ("superseded", "fp-old")]
    assert "re-run 1 time by the hosts" in section
    for text in ("25.00%", "0.00%", "50.00%"):  # top-1 and top-5, public part, as percentages
        assert text in section


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("entries_rerun", {"finals": "1"}),
        ("submissions_pause", {"action": "pause"}),
        ("board_freeze", {"frozen_at": "2026-01-01T10:00"}),
    ],
)
def test_only_the_host_and_staff_may(client, edition, host, name, data):
    url = reverse(name, args=[edition.challenge.slug, edition.slug])
    client.force_login(make_user("student"))
    assert client.post(url, data).status_code == 403
    edition.refresh_from_db()
    assert edition.submissions_paused_at is None and edition.board_frozen_at is None
    with pytest.raises(ClassroomRefused):
        host_control.edition_pause(edition=edition, by=make_user("other"), paused=True)
    client.force_login(host)
    assert client.post(url, data).status_code == 302
    staff = make_user("staff")
    staff.is_staff = True
    staff.save()
    client.force_login(staff)
    assert client.post(url, data).status_code == 302


def test_the_host_page_controls(client, edition, host):
    team = make_team(edition=edition, name="t")
    submission = make_scored(edition=edition, team=team, top1=0.5, top5=0.25)
    client.force_login(host)
    page = reverse("edition_host", args=[edition.challenge.slug, edition.slug])
    html = client.get(page).content.decode()
    assert 'id="rerun-finals"' in html and 'form="rerun-form"' in html
    assert "Pause submissions" in html and 'name="frozen_at"' in html
    freeze = reverse("board_freeze", args=[edition.challenge.slug, edition.slug])
    bad = client.post(freeze, {"frozen_at": "next tuesday"}, follow=True).content.decode()
    assert "is not a date and time" in bad
    client.post(freeze, {"frozen_at": "2020-01-01T09:30"})
    edition.refresh_from_db()
    local = timezone.localtime(edition.board_frozen_at, edition.tzinfo)
    assert (local.year, local.hour, local.minute) == (2020, 9, 30)
    assert "Frozen since" in client.get(page).content.decode()
    client.post(freeze, {"action": "lift"})
    edition.refresh_from_db()
    assert edition.board_frozen_at is None
    rerun = reverse("entries_rerun", args=[edition.challenge.slug, edition.slug])
    done = client.post(rerun, {"submission": [str(submission.pk)]}, follow=True)
    assert "1 entry queued to be scored again" in done.content.decode()
    submission.refresh_from_db()
    assert submission.status == Status.QUEUED


def test_a_closed_edition_is_not_frozen(challenge, db):
    edition = make_edition(challenge=challenge, open_now=False)
    edition.board_frozen_at = edition.closes_at - dt.timedelta(days=1)
    edition.save()
    assert edition.board_frozen_as_of() is None


def test_a_frozen_board_matches_the_scores_held_at_the_freeze(edition, host):
    """Entries scored before and after the freeze, some re-run after it: the frozen board is
    each team's best of the scores its entries held at the freeze, computed here in Python."""
    teams = [make_team(edition=edition, name=f"t{i}") for i in range(6)]
    now = timezone.now()
    frozen_at = now - dt.timedelta(hours=10)
    entries = []
    for i, team in enumerate(teams):
        for j in range(4):
            top5 = 0.1 + 0.05 * ((i * 7 + j * 3) % 11)
            entries.append(make_scored(edition=edition, team=team, top1=top5 + 0.1, top5=top5))
    # Scores recorded 20 h to 1 h ago: about half before the freeze.
    for k, submission in enumerate(entries):
        Score.objects.filter(submission=submission).update(
            created_at=now - dt.timedelta(hours=20 - (k * 19) // len(entries))
        )
    for k, submission in enumerate(entries[::3]):
        host_control.submissions_rerun(edition=edition, by=host, submission_ids=[submission.pk])
        new = 0.02 + 0.13 * (k % 4)
        score_once(
            submission.pk, result(public=(new + 0.1, new), private=(new, new), fingerprint="f2")
        )
    host_control.edition_freeze(edition=edition, by=host, frozen_at=frozen_at)
    edition.refresh_from_db()

    held = {}  # submission -> (public top-5, submitted_at) at the freeze
    for score in Score.objects.filter(edition=edition, created_at__lte=frozen_at):
        held[score.submission_id] = (score.public_top5_error, score.submitted_at)
    for old in SupersededScore.objects.filter(
        edition=edition, scored_at__lte=frozen_at, superseded_at__gt=frozen_at
    ):
        held[old.submission_id] = (old.public_top5_error, old.submitted_at)
    best = {}
    for submission in entries:
        if submission.pk in held:
            key = (*held[submission.pk], str(submission.pk))
            best[submission.team_id] = min(best.get(submission.team_id, key), key)
    expected = sorted(best.values())
    assert len(expected) >= 4 and any(
        SupersededScore.objects.filter(submission_id=pk, scored_at__lte=frozen_at).exists()
        for _, _, pk in expected
    )  # some team's standing at the freeze comes from a score a re-run replaced since

    board = selectors.edition_leaderboard(edition=edition, now=now)
    assert board.frozen_at == frozen_at
    assert [(r.metric_value, str(r.pk)) for r in board.rows] == [(v, pk) for v, _, pk in expected]
    live = selectors.edition_leaderboard(edition=edition, now=frozen_at - dt.timedelta(hours=1))
    assert live.frozen_at is None

"""The charts' stored days (``models.activity``) against a plain count over the rows.

Every write goes through the services a participant, a worker or a host uses; after each, the
stored days must equal both the GROUP BY they replace (``day_totals``) and a count in Python
over every submission, with the day taken in the edition's time zone (one whose midnight is no
UTC hour), at instants on either side of local midnight.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from leaderboard import selectors, services
from leaderboard.metrics import PUBLIC, metric_get
from leaderboard.models import ActivityDay, ActivitySummary, Score, Submission, day_totals
from leaderboard.services import host_control

from .factories import make_edition, make_scored, make_team, make_user, onnx_upload
from .test_concurrency import run_in_threads

pytestmark = pytest.mark.django_db
ZONE = "America/St_Johns"  # UTC-03:30 (-02:30 in summer)
Status = Submission.Status


def result(*, public_top5: float) -> dict:
    """An evaluator result as ``score --json`` reports it (4 + 4 images)."""
    return {
        "top1_error": 0.5,
        "top5_error": (public_top5 + 0.5) / 2,
        "n_images": 8,
        "public": {"top1_error": 0.5, "top5_error": public_top5, "n_images": 4},
        "private": {"top1_error": 0.5, "top5_error": 0.5, "n_images": 4},
    }


def counted_in_python(edition) -> dict[dt.date, tuple[int, int, float | None]]:
    """Per local day: submissions, scored and ranked ones, their best public value."""
    zone = zoneinfo.ZoneInfo(edition.time_zone)
    metric = metric_get(edition.challenge.primary_metric)
    values = dict(
        Score.objects.filter(submission__edition=edition).values_list(
            "submission_id", metric.column(PUBLIC)
        )
    )
    days: dict[dt.date, list] = {}
    for row in Submission.objects.filter(edition=edition):
        if row.is_baseline:
            continue
        day = days.setdefault(row.created_at.astimezone(zone).date(), [0, 0, []])
        day[0] += 1
        if row.status == Status.SCORED and row.moderation in ("", "flagged"):
            day[1] += 1
            if values.get(row.pk) is not None:
                day[2].append(values[row.pk])
    pick = min if metric.lower_is_better else max
    return {d: (n, s, pick(v) if v else None) for d, (n, s, v) in sorted(days.items())}


def stored(edition) -> dict[dt.date, tuple[int, int, float | None]]:
    summary = ActivitySummary.objects.get(edition=edition)
    edition.refresh_from_db()
    assert summary.matches(edition)
    rows = ActivityDay.objects.filter(edition=edition).order_by("day")
    return {r.day: (r.submissions, r.scored, r.best) for r in rows}


def assert_exact(edition) -> dict:
    expected = counted_in_python(edition)
    assert stored(edition) == expected
    grouped = {
        r["day"]: (r["submissions"], r["scored"], r["best"]) for r in day_totals(edition=edition)
    }
    assert grouped == expected
    shown = selectors.edition_daily(edition=edition)
    assert {d.day: (d.submissions, d.scored, d.best) for d in shown} == expected
    return expected


@pytest.fixture
def zoned(challenge):
    edition = make_edition(challenge=challenge, daily_limit=50, total_limit=500)
    edition.time_zone = ZONE
    edition.opens_at = timezone.now() - dt.timedelta(days=10)
    edition.save()
    return edition


def local_midnight(days_ago: int) -> dt.datetime:
    zone = zoneinfo.ZoneInfo(ZONE)
    today = timezone.now().astimezone(zone).date()
    return dt.datetime.combine(today - dt.timedelta(days=days_ago), dt.time.min, tzinfo=zone)


def score(submission: Submission, *, public_top5: float) -> None:
    job = services.submission_start(submission_id=submission.pk, worker="w")
    assert job is not None
    done = services.score_record(
        submission_id=submission.pk, attempt=job.attempt, result=result(public_top5=public_top5)
    )
    assert done


def test_every_write_keeps_the_days_exact_across_local_midnight(zoned):
    ann, bob = make_user("ann"), make_user("bob")
    staff = make_user("staff")
    staff.is_staff = True
    staff.save()
    midnight = local_midnight(3)
    moments = [
        midnight - dt.timedelta(microseconds=1),  # the day before, locally
        midnight,  # the first instant of the day
        midnight + dt.timedelta(hours=2, minutes=30),  # 05:00 UTC or so: still that local day
        midnight + dt.timedelta(days=1) - dt.timedelta(seconds=1),  # its last second
        midnight + dt.timedelta(days=1),  # the next day
    ]
    made = []
    for i, moment in enumerate(moments):
        made.append(
            services.submission_create(
                edition=zoned,
                user=(ann, bob)[i % 2],
                upload=onnx_upload(),
                method_name=f"m{i}",
                now=moment,
            )
        )
        assert_exact(zoned)
    assert [n for n, _, _ in counted_in_python(zoned).values()] == [1, 3, 1]

    for submission, value in zip(made, (0.4, 0.3, 0.2, 0.35, 0.1), strict=True):
        score(submission, public_top5=value)
        assert_exact(zoned)
    days = assert_exact(zoned)
    assert list(days.values()) == [(1, 1, 0.4), (3, 3, 0.2), (1, 1, 0.1)]

    # The day's best is hidden: the next best of the day takes its place.
    services.submission_moderate(submission=made[2], by=staff, action="hidden", reason="copied")
    assert list(assert_exact(zoned).values())[1] == (3, 2, 0.3)
    services.submission_moderate(submission=made[2], by=staff, action="flagged", reason="odd")
    assert list(assert_exact(zoned).values())[1] == (3, 3, 0.2)

    # A re-run leaves the day's scored count until it is scored again, with its new value.
    host_control.submissions_rerun(edition=zoned, by=staff, submission_ids=[made[1].pk])
    assert list(assert_exact(zoned).values())[1] == (3, 2, 0.2)
    score(made[1], public_top5=0.05)
    assert list(assert_exact(zoned).values())[1] == (3, 3, 0.05)

    # A failed run counts as a submission of its day, never as scored.
    failing = services.submission_create(
        edition=zoned, user=ann, upload=onnx_upload(), method_name="f", now=midnight
    )
    job = services.submission_start(submission_id=failing.pk, worker="w")
    services.score_record(submission_id=failing.pk, attempt=job.attempt, error_code="bad")
    assert list(assert_exact(zoned).values())[1] == (4, 3, 0.05)

    # Another time zone: the same rows fall on other days, counted again at once.
    services.edition_update(edition=zoned, changes={"time_zone": "Asia/Kathmandu"})  # +05:45
    moved = assert_exact(zoned)
    assert moved != days and sum(n for n, _, _ in moved.values()) == 6


def test_baselines_and_other_editions_are_not_counted(zoned, challenge):
    other = make_edition(challenge=challenge, year=2024)
    user = make_user("ann")
    submission = services.submission_create(
        edition=zoned, user=user, upload=onnx_upload(), method_name="m"
    )
    score(submission, public_top5=0.3)
    make_scored(edition=zoned, team=None, baseline=True, top1=0.1, top5=0.01)
    make_scored(edition=other, team=make_team(edition=other, name="o"), top1=0.1, top5=0.01)
    services.activity_rebuild(edition=zoned)
    assert list(assert_exact(zoned).values()) == [(1, 1, 0.3)]


def test_the_page_reads_the_stored_days_and_the_command_counts_them_again(zoned):
    team = make_team(edition=zoned, name="t")
    make_scored(edition=zoned, team=team, top1=0.5, top5=0.3)
    assert ActivitySummary.objects.filter(edition=zoned).count() == 0
    # Never counted: the days come from the rows.
    (day,) = selectors.edition_daily(edition=zoned)
    assert (day.submissions, day.scored, day.best) == (1, 1, 0.3)

    out = StringIO()
    call_command("activity_rebuild", stdout=out)
    assert "1 day" in out.getvalue()
    assert_exact(zoned)
    # A row written around the services is not seen until the days are counted again.
    make_scored(edition=zoned, team=team, top1=0.5, top5=0.1)
    (day,) = selectors.edition_daily(edition=zoned)
    assert (day.submissions, day.best) == (1, 0.3)
    call_command("activity_rebuild", "--edition", str(zoned.pk), stdout=out)
    (day,) = selectors.edition_daily(edition=zoned)
    assert (day.submissions, day.best) == (2, 0.1)


def test_a_changed_ranking_metric_is_counted_from_the_rows_until_counted_again(zoned):
    user = make_user("ann")
    submission = services.submission_create(
        edition=zoned, user=user, upload=onnx_upload(), method_name="m"
    )
    score(submission, public_top5=0.3)
    challenge = zoned.challenge
    challenge.primary_metric = "top1"
    challenge.save()
    zoned.refresh_from_db()
    (day,) = selectors.edition_daily(edition=zoned)
    assert day.best == 0.5  # the top-1 error, from the rows: not the stored top-5 one
    services.activity_rebuild(edition=zoned)
    assert list(assert_exact(zoned).values()) == [(1, 1, 0.5)]


def test_a_frozen_board_counts_no_score_recorded_after_the_freeze(zoned):
    team = make_team(edition=zoned, name="t")
    before = make_scored(edition=zoned, team=team, top1=0.5, top5=0.3)
    services.activity_rebuild(edition=zoned)
    zoned.board_frozen_at = timezone.now()
    zoned.save()
    later = make_scored(edition=zoned, team=team, top1=0.5, top5=0.1)
    Score.objects.filter(submission=later).update(created_at=timezone.now() + dt.timedelta(1))
    services.activity_refresh(edition_id=zoned.pk, moments=[later.created_at])
    (day,) = selectors.edition_daily(edition=zoned)
    assert (day.submissions, day.scored, day.best) == (2, 1, 0.3)
    assert Score.objects.get(submission=before).public_top5_error == day.best


@pytest.mark.django_db(transaction=True)
def test_parallel_uploads_and_scores_leave_the_days_exact(challenge, gpu_queue):
    edition = make_edition(challenge=challenge, daily_limit=50, total_limit=500)
    users = [make_user(f"u{i}") for i in range(6)]

    def upload_and_score(index: int) -> None:
        submission = services.submission_create(
            edition=edition, user=users[index], upload=onnx_upload(), method_name=str(index)
        )
        score(submission, public_top5=0.1 * (index + 1))

    results = run_in_threads(6, upload_and_score)
    assert results == [None] * 6, results
    (day,) = assert_exact(edition).values()
    assert day == (6, 6, pytest.approx(0.1))


def test_a_submission_deleted_in_the_admin_leaves_its_day(zoned, client):
    ann, bob = make_user("ann"), make_user("bob")
    kept = services.submission_create(
        edition=zoned, user=ann, upload=onnx_upload(), method_name="kept"
    )
    gone = services.submission_create(
        edition=zoned, user=bob, upload=onnx_upload(), method_name="gone"
    )
    score(kept, public_top5=0.3)
    score(gone, public_top5=0.1)
    assert list(assert_exact(zoned).values()) == [(2, 2, 0.1)]
    admin = make_user("root")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    url = reverse("admin:leaderboard_submission_delete", args=[gone.pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert list(assert_exact(zoned).values()) == [(1, 1, 0.3)]

"""Classroom editions on PostgreSQL: creating and joining, teams and their size cap,
invitations, final submissions, moderation, and exactly what counts against the limits."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from leaderboard import selectors, services
from leaderboard.errors import ClassroomRefused, SubmissionRefused
from leaderboard.models import Membership, Participant, Submission, Team, TeamInvitation
from leaderboard.services.codes import ALPHABET

from .factories import make_edition, make_scored, make_team, make_user, onnx_upload
from .test_concurrency import run_in_threads

pytestmark = pytest.mark.django_db
Status = Submission.Status


def new_edition(challenge, host, **overrides):
    now = timezone.now()
    fields = {
        "challenge": challenge,
        "host": host,
        "year": 2026,
        "slug": "spring",
        "title": "CS 231 spring",
        "opens_at": now - dt.timedelta(hours=1),
        "closes_at": now + dt.timedelta(days=7),
        "time_zone": "Europe/Paris",
        "max_team_size": 2,
        "final_submissions": 2,
        "join_required": True,
    }
    return services.edition_create(**{**fields, **overrides})


@pytest.fixture
def host(db):
    return make_user("prof")


@pytest.fixture
def classroom(challenge, host):
    return new_edition(challenge, host)


def refused(code: str):
    """pytest.raises for a classroom refusal with this code."""
    return pytest.raises(ClassroomRefused, check=lambda e: e.code == code)


# --- creating and joining ----------------------------------------------------------------


def test_edition_is_created_with_its_host_and_a_readable_join_code(classroom, host):
    assert classroom.host == host and classroom.display_name == "CS 231 spring"
    assert len(classroom.join_code) == 8 and set(classroom.join_code) <= set(ALPHABET)
    assert selectors.edition_can_host(edition=classroom, user=host)
    assert not selectors.edition_can_host(edition=classroom, user=make_user("student"))


def test_edition_create_refuses_bad_values(challenge, host, classroom):
    with pytest.raises(ValidationError) as info:
        new_edition(challenge, host)  # same slug again
    assert "slug" in str(info.value) or "already exists" in str(info.value)
    now = timezone.now()
    with pytest.raises(ValidationError):
        new_edition(challenge, host, slug="b", opens_at=now, closes_at=now - dt.timedelta(1))
    with pytest.raises(ValidationError):
        new_edition(challenge, host, slug="c", time_zone="Mars/Olympus")


def test_joining_needs_the_right_code_and_happens_once(classroom):
    student = make_user("sam")
    assert not selectors.edition_admits(edition=classroom, user=student)
    with refused("bad_join_code"):
        services.edition_join(edition=classroom, user=student, code="WRONG123")
    first = services.edition_join(edition=classroom, user=student, code=classroom.join_code.lower())
    again = services.edition_join(edition=classroom, user=student, code=classroom.join_code)
    assert first.pk == again.pk and Participant.objects.count() == 1
    assert selectors.edition_admits(edition=classroom, user=student)


def test_renewed_code_replaces_the_old_one(classroom):
    old = classroom.join_code
    new = services.edition_join_code_renew(edition=classroom)
    assert new != old
    with refused("bad_join_code"):
        services.edition_join(edition=classroom, user=make_user("late"), code=old)
    assert selectors.edition_get_by_join_code(code=new.lower()).pk == classroom.pk


def test_a_closed_edition_takes_no_one(classroom):
    classroom.closes_at = timezone.now() - dt.timedelta(minutes=1)
    classroom.opens_at = classroom.closes_at - dt.timedelta(days=1)
    classroom.save()
    with refused("edition_closed"):
        services.edition_join(edition=classroom, user=make_user("x"), code=classroom.join_code)


def test_submitting_to_an_invitation_only_edition_needs_joining_first(classroom, host):
    student = make_user("sam")
    with pytest.raises(SubmissionRefused) as info:
        services.submission_create(
            edition=classroom, user=student, upload=onnx_upload(), method_name="m"
        )
    assert info.value.code == "join_required"
    services.edition_join(edition=classroom, user=student, code=classroom.join_code)
    made = services.submission_create(
        edition=classroom, user=student, upload=onnx_upload(), method_name="m"
    )
    assert made.team.members.get() == student
    # The host may try the edition without joining.
    services.submission_create(edition=classroom, user=host, upload=onnx_upload(), method_name="h")


# --- teams ---------------------------------------------------------------------------------


def joined(edition, name: str):
    user = make_user(name)
    services.edition_join(edition=edition, user=user, code=edition.join_code)
    return user


def test_team_code_joins_until_the_team_is_full(classroom):
    ann, bob, cid = (joined(classroom, n) for n in ("ann", "bob", "cid"))
    team = services.team_create(edition=classroom, user=ann, name="Owls")
    assert team.join_code and team.join_code != classroom.join_code
    assert services.team_join(edition=classroom, user=bob, code=team.join_code).pk == team.pk
    with refused("team_full"):
        services.team_join(edition=classroom, user=cid, code=team.join_code)
    assert sorted(team.members.values_list("username", flat=True)) == ["ann", "bob"]
    with refused("bad_team_code"):
        services.team_join(edition=classroom, user=cid, code="NOPE")


def test_team_names_are_unique_per_edition(classroom):
    services.team_create(edition=classroom, user=joined(classroom, "ann"), name="Owls")
    with refused("team_name_taken"):
        services.team_create(edition=classroom, user=joined(classroom, "bob"), name="owls")


def test_invitation_accepted_joins_declined_does_not(classroom):
    ann, bob, cid = (joined(classroom, n) for n in ("ann", "bob", "cid"))
    team = services.team_create(edition=classroom, user=ann, name="Owls")
    to_bob = services.team_invite(team=team, by=ann, username="bob")
    to_cid = services.team_invite(team=team, by=ann, username="cid")
    assert services.team_invite(team=team, by=ann, username="bob").pk == to_bob.pk  # once

    services.invitation_answer(invitation=to_cid, user=cid, accept=False)
    services.invitation_answer(invitation=to_bob, user=bob, accept=True)

    assert set(team.members.all()) == {ann, bob}
    statuses = dict(TeamInvitation.objects.values_list("user__username", "status"))
    assert statuses == {"bob": "accepted", "cid": "declined"}
    with refused("bad_invitation"):
        services.invitation_answer(invitation=to_cid, user=cid, accept=True)
    with refused("team_full"):
        services.team_invite(team=team, by=ann, username="cid")
    with refused("not_a_member"):
        services.team_invite(team=team, by=cid, username="ann")


def test_accepting_an_invitation_to_a_team_that_filled_up_is_refused(classroom):
    ann, bob, cid = (joined(classroom, n) for n in ("ann", "bob", "cid"))
    team = services.team_create(edition=classroom, user=ann, name="Owls")
    to_bob = services.team_invite(team=team, by=ann, username="bob")
    services.team_join(edition=classroom, user=cid, code=team.join_code)
    with refused("team_full"):
        services.invitation_answer(invitation=to_bob, user=bob, accept=True)
    assert not Membership.objects.filter(user=bob).exists()


def test_an_empty_team_is_left_behind_but_a_team_that_submitted_keeps_its_members(classroom):
    ann, bob = joined(classroom, "ann"), joined(classroom, "bob")
    solo = services.team_create(edition=classroom, user=ann, name="Solo")
    owls = services.team_create(edition=classroom, user=bob, name="Owls")
    services.team_join(edition=classroom, user=ann, code=owls.join_code)
    assert not Team.objects.filter(pk=solo.pk).exists()  # its last member left
    services.submission_create(edition=classroom, user=ann, upload=onnx_upload(), method_name="m")
    with refused("team_has_submitted"):
        services.team_leave(edition=classroom, user=bob)
    with refused("team_has_submitted"):
        services.team_create(edition=classroom, user=bob, name="Elsewhere")


def test_teams_need_admission(classroom):
    outsider = make_user("out")
    with refused("join_required"):
        services.team_create(edition=classroom, user=outsider, name="Gatecrashers")


@pytest.mark.django_db(transaction=True)
def test_the_size_cap_holds_under_simultaneous_joins(challenge, host):
    edition = new_edition(challenge, host, max_team_size=3)
    founder = joined(edition, "founder")
    team = services.team_create(edition=edition, user=founder, name="Crowd")
    users = [joined(edition, f"u{i}") for i in range(8)]

    results = run_in_threads(
        8, lambda i: services.team_join(edition=edition, user=users[i], code=team.join_code)
    )

    assert sum(isinstance(r, Team) for r in results) == 2, results
    assert all(isinstance(r, (Team, ClassroomRefused)) for r in results), results
    assert Membership.objects.filter(team=team).count() == 3


# --- finals --------------------------------------------------------------------------------


def test_finals_are_up_to_k_of_the_teams_own_scored_entries(classroom):
    ann = joined(classroom, "ann")
    team = services.team_create(edition=classroom, user=ann, name="Owls")
    other = make_team(edition=classroom, name="Other")
    a, b, c = (make_scored(edition=classroom, team=team, top1=x, top5=x) for x in (0.3, 0.2, 0.1))
    theirs = make_scored(edition=classroom, team=other, top1=0.1, top5=0.1)
    hidden = make_scored(edition=classroom, team=team, top1=0.0, top5=0.0, moderation="hidden")

    services.team_finals_select(team=team, user=ann, submission_ids=[a.pk, b.pk])
    assert set(Submission.objects.filter(is_final=True)) == {a, b}
    services.team_finals_select(team=team, user=ann, submission_ids=[str(c.pk)])
    assert set(Submission.objects.filter(is_final=True)) == {c}

    with refused("too_many_finals"):
        services.team_finals_select(team=team, user=ann, submission_ids=[a.pk, b.pk, c.pk])
    for bad in (theirs.pk, hidden.pk, "not-a-uuid"):
        with refused("bad_final"):
            services.team_finals_select(team=team, user=ann, submission_ids=[bad])
    with refused("not_a_member"):
        services.team_finals_select(team=team, user=make_user("x"), submission_ids=[])
    services.team_finals_select(team=team, user=ann, submission_ids=[])
    assert not Submission.objects.filter(is_final=True).exists()


def test_the_private_board_ranks_finals_and_falls_back_to_the_best_public(challenge):
    edition = make_edition(challenge=challenge, open_now=False)
    chooser, lazy = (
        make_team(edition=edition, name="chooser"),
        make_team(edition=edition, name="lazy"),
    )
    # chooser's best public entry is bad on the private part; it chose a better final.
    make_scored(edition=edition, team=chooser, top1=0.1, top5=0.1, private=(0.9, 0.9))
    make_scored(
        edition=edition, team=chooser, top1=0.5, top5=0.5, private=(0.3, 0.3), is_final=True
    )
    # lazy chose nothing: its best public entry counts, not its best private one.
    make_scored(edition=edition, team=lazy, top1=0.2, top5=0.2, private=(0.4, 0.4))
    make_scored(edition=edition, team=lazy, top1=0.6, top5=0.6, private=(0.0, 0.0))

    board = selectors.edition_leaderboard(edition=edition)

    assert board.phase == "private"
    assert [(r.team_name, r.metric_value, r.is_final) for r in board.rows] == [
        ("chooser", 0.3, True),
        ("lazy", 0.4, False),
    ]
    public = selectors.edition_leaderboard(edition=edition, phase="public")
    assert [(r.team_name, r.metric_value) for r in public.rows] == [("chooser", 0.1), ("lazy", 0.2)]


def test_finals_are_frozen_once_the_edition_closes(challenge):
    edition = make_edition(challenge=challenge, open_now=False)
    user = make_user("ann")
    team = make_team(edition=edition, name="Owls", users=[user])
    entry = make_scored(edition=edition, team=team, top1=0.1, top5=0.1)
    with refused("edition_closed"):
        services.team_finals_select(team=team, user=user, submission_ids=[entry.pk])


# --- moderation ----------------------------------------------------------------------------


def test_hosts_hide_flag_or_disqualify_with_a_reason(classroom, host):
    team = make_team(edition=classroom, name="Owls")
    best = make_scored(edition=classroom, team=team, top1=0.1, top5=0.1)
    second = make_scored(edition=classroom, team=team, top1=0.2, top5=0.2)
    rival = make_scored(
        edition=classroom, team=make_team(edition=classroom, name="R"), top1=0.3, top5=0.3
    )

    with refused("not_host"):
        services.submission_moderate(
            submission=best, by=make_user("x"), action="hidden", reason="r"
        )
    with refused("reason_required"):
        services.submission_moderate(submission=best, by=host, action="disqualified")

    services.submission_moderate(
        submission=best, by=host, action="disqualified", reason="trained on the test set"
    )
    services.submission_moderate(submission=rival, by=host, action="flagged", reason="check")
    rows = selectors.edition_leaderboard(edition=classroom).rows
    assert [(r.pk, r.moderation) for r in rows] == [(second.pk, ""), (rival.pk, "flagged")]
    best.refresh_from_db()
    assert best.moderation_reason == "trained on the test set" and best.moderated_by == host

    services.submission_moderate(submission=best, by=host, action="", reason="")
    assert selectors.edition_leaderboard(edition=classroom).rows[0].pk == best.pk


# --- limits --------------------------------------------------------------------------------


def _create(edition, user, *, now=None):
    return services.submission_create(
        edition=edition, user=user, upload=onnx_upload(), method_name="m", now=now
    )


@pytest.mark.parametrize(
    ("code", "refunded"),
    [
        ("platform_error", True),  # a worker crash or sweeper retries ran out of attempts
        ("sandbox_unavailable", True),
        ("dataset_invalid", True),
        ("model_load_failed", False),  # the participant's model
        ("model_check_failed", False),
        ("timeout", False),
        ("memory_limit", False),
        ("model_crashed", False),
    ],
)
def test_a_platform_failure_refunds_the_quota_a_model_failure_does_not(
    challenge, user, code, refunded
):
    edition = make_edition(challenge=challenge, daily_limit=1, total_limit=1)
    first = _create(edition, user)
    Submission.objects.filter(pk=first.pk).update(status=Status.FAILED, error_code=code)

    usage = selectors.submission_usage(edition=edition, user=user)
    assert (usage.left_today, usage.left_total) == ((1, 1) if refunded else (0, 0))
    if refunded:
        _create(edition, user)
    else:
        with pytest.raises(SubmissionRefused):
            _create(edition, user)


def test_a_retried_submission_counts_once(challenge, user, settings):
    edition = make_edition(challenge=challenge, daily_limit=2)
    submission = _create(edition, user)
    for _ in range(2):  # the worker crashes and hands the attempt back; the sweeper re-sends
        job = services.submission_start(submission_id=submission.pk, worker="w")
        services.submission_release(submission_id=submission.pk, attempt=job.attempt)
    usage = selectors.submission_usage(edition=edition, user=user)
    assert (usage.today, usage.left_today) == (1, 1)
    job = services.submission_start(submission_id=submission.pk, worker="w")
    services.submission_fail_exhausted(
        submission_id=submission.pk, status=Status.RUNNING, attempts=job.attempt, now=timezone.now()
    )
    usage = selectors.submission_usage(edition=edition, user=user)
    assert (usage.today, usage.left_today) == (0, 2)


def test_the_day_resets_at_midnight_in_the_editions_time_zone(challenge, user):
    edition = make_edition(challenge=challenge, daily_limit=1)
    edition.time_zone = "Pacific/Auckland"
    edition.opens_at = timezone.now() - dt.timedelta(days=5)
    edition.save()
    two_days_ago = timezone.localtime(timezone.now() - dt.timedelta(days=2), edition.tzinfo)
    late_evening = two_days_ago.replace(hour=23, minute=30, second=0, microsecond=0)
    _create(edition, user, now=late_evening)
    with pytest.raises(SubmissionRefused) as info:
        _create(edition, user, now=late_evening + dt.timedelta(minutes=20))  # 23:50, same day
    assert info.value.code == "daily_limit" and "Pacific/Auckland" in info.value.message
    _create(edition, user, now=late_evening + dt.timedelta(minutes=40))  # 00:10, next day

"""``leaderboard-cli host ...`` against a live site (issue 16, section 3): a host pauses,
freezes and re-runs through the API; an assistant re-runs but may not pause."""

from __future__ import annotations

import json

import pytest

from leaderboard.api import tokens
from leaderboard.client import config
from leaderboard.models import EditionRole, Submission
from tests.leaderboard.factories import make_scored, make_team, make_user

from .conftest import assert_failed

pytestmark = pytest.mark.django_db(transaction=True)
EDITION = "fmnist/2025"


@pytest.fixture
def as_host(server, edition):
    hana = make_user("hana")
    edition.host = hana
    edition.save(update_fields=["host"])
    config.save_token(server=server, token=tokens.token_create(user=hana).key)
    return hana


def test_a_host_pauses_freezes_and_lifts_both(cli, as_host, edition):
    run = cli("host", "pause", EDITION)
    assert run.code == 0, run.err
    assert "Submissions paused" in run.out
    assert "uploads get \u201cSubmissions are paused by the host of Fashion 2025" in run.out
    edition.refresh_from_db()
    assert edition.submissions_paused

    run = cli("host", "freeze", EDITION, "--at", "2025-01-02T10:30+00:00")
    assert run.code == 0, run.err
    edition.refresh_from_db()
    assert edition.board_frozen_at.isoformat() == "2025-01-02T10:30:00+00:00"
    assert "frozen at" in run.out

    run = cli("host", "status", EDITION, "--json")
    state = json.loads(run.out)
    assert (state["role"], state["submissions_paused"], state["board_frozen_now"]) == (
        "host",
        True,
        True,
    )

    assert cli("host", "resume", EDITION).code == 0
    assert cli("host", "unfreeze", EDITION).code == 0
    edition.refresh_from_db()
    assert not edition.submissions_paused and edition.board_frozen_at is None


def test_a_freeze_time_that_is_not_one_is_named(cli, as_host, edition):
    run = cli("host", "freeze", EDITION, "--at", "tomorrow noon")
    assert_failed(run, "bad_time", "'tomorrow noon' is not a date and time")


def test_a_host_reruns_entries_and_sees_what_was_queued(cli, as_host, edition, user):
    team = make_team(edition=edition, name="t", users=[user])
    entry = make_scored(edition=edition, team=team, top1=0.3, top5=0.2)
    run = cli("host", "rerun", EDITION, entry.pk)
    assert run.code == 0, run.err
    assert f"queued   {entry.pk}" in run.out
    assert Submission.objects.get(pk=entry.pk).reruns == 1
    run = cli("host", "rerun", EDITION, entry.pk)  # still queued: nothing to do
    assert_failed(run, "nothing_rerun", "Nothing re-run")
    assert_failed(cli("host", "rerun", EDITION), "nothing_chosen", "--finals")


def test_an_assistant_reruns_the_finals_but_may_not_pause(cli, server, edition, user):
    team = make_team(edition=edition, name="t", users=[user])
    entry = make_scored(edition=edition, team=team, top1=0.3, top5=0.2)
    tom = make_user("tom")
    EditionRole.objects.create(edition=edition, user=tom, role=EditionRole.Role.TA)
    config.save_token(server=server, token=tokens.token_create(user=tom).key)
    run = cli("host", "rerun", EDITION, "--finals", "--json")
    assert run.code == 0, run.err
    assert json.loads(run.out)["queued"] == [str(entry.pk)]
    assert_failed(cli("host", "pause", EDITION), "not_host", "Only the edition's hosts")
    assert not type(edition).objects.get(pk=edition.pk).submissions_paused
    assert cli("host", "status", EDITION).code == 0


def test_a_participant_is_refused(cli, logged_in, edition):
    assert_failed(cli("host", "status", EDITION), "not_host", "hosts and teaching assistants")

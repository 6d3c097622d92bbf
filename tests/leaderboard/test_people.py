"""People of an edition (issue 16, section 1): hosts and teaching assistants, invitations by
e-mail claimed through their mailed link (more in test_people_claims), the challenge's hosts
on new editions, and the roster.

Through the real services, pages, database (PostgreSQL) and broker (Redis): a teaching assistant
moderates, re-runs and sees every submission but changes no setting and no role (403); the last
host stays; the roster imports whole or not at all, names each bad row, and updates on a second
upload; the invitation's claim link admits the student; one team per student.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import re
import uuid

import pytest
import redis
from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from leaderboard import selectors, services
from leaderboard.celery import app as celery_app
from leaderboard.errors import ClassroomRefused
from leaderboard.models import (
    Edition,
    EditionRole,
    Membership,
    Participant,
    RosterEntry,
    Submission,
    Team,
)
from leaderboard.selectors.people import roster_status
from leaderboard.selectors.permissions import can_host, can_moderate, can_see_all_submissions
from leaderboard.services import people

from .factories import make_challenge, make_edition, make_scored, make_team, make_user

pytestmark = pytest.mark.django_db
HOST, TA = EditionRole.Role.HOST, EditionRole.Role.TA


def url(name: str, edition: Edition, **kwargs) -> str:
    return reverse(name, kwargs={"slug": edition.challenge.slug, "edition": edition.slug, **kwargs})


def user(name: str, email: str = ""):
    made = make_user(name)
    made.email = email or f"{name}@example.org"
    made.save(update_fields=["email"])
    return made


@pytest.fixture
def hosted(challenge):
    """An edition made as the browser makes it: its creator is its host."""
    now = timezone.now()
    return services.edition_create(
        challenge=challenge,
        host=user("prof"),
        year=2031,
        slug="autumn",
        opens_at=now - dt.timedelta(days=1),
        closes_at=now + dt.timedelta(days=30),
        join_required=True,
    )


@pytest.fixture
def people_queue(settings):
    """A queue of this test's own on the test broker; the mail tasks are read back from it."""
    name = f"people-{uuid.uuid4().hex[:10]}"
    settings.NOTIFICATIONS_QUEUE = name
    client = redis.Redis.from_url(celery_app.conf.broker_url)
    yield lambda: [json.loads(raw)["headers"] for raw in client.lrange(name, 0, -1)]
    client.delete(name)


def add(edition, who: str, role: str = TA, by=None) -> EditionRole:
    return people.role_add(edition=edition, by=by or edition.host, who=who, role=role)


# Roles ------------------------------------------------------------------------------------


def test_a_teaching_assistant_moderates_reruns_and_sees_every_submission(client, hosted, gpu_queue):
    ta = user("tia")
    add(hosted, "tia")
    team = make_team(edition=hosted, name="Owls", users=[user("stu")])
    entry = make_scored(edition=hosted, team=team, top1=0.5, top5=0.25)
    assert can_moderate(user=ta, edition=hosted) and not can_host(user=ta, edition=hosted)
    assert can_see_all_submissions(user=ta, edition=hosted)
    client.force_login(ta)

    assert client.get(url("edition_host", hosted)).status_code == 200
    assert client.get(entry.get_absolute_url()).status_code == 200  # another team's entry
    board = client.get(hosted.get_absolute_url())
    assert entry.get_absolute_url() in board.content.decode()  # linked from the board for them
    moderated = client.post(
        url("entry_moderate", hosted, pk=entry.pk), {"action": "flagged", "reason": "odd"}
    )
    assert moderated.status_code == 302
    entry.refresh_from_db()
    assert entry.moderation == "flagged" and entry.moderated_by == ta
    rerun = client.post(url("entries_rerun", hosted), {"submission": [str(entry.pk)]})
    assert rerun.status_code == 302
    entry.refresh_from_db()
    assert entry.status == Submission.Status.QUEUED and entry.reruns == 1
    assert client.get(url("edition_grades", hosted)).status_code == 200  # may view grades

    outsider = user("eve")
    client.force_login(outsider)
    assert client.get(entry.get_absolute_url()).status_code == 404


def test_a_teaching_assistant_changes_no_setting_and_no_role(client, hosted):
    ta = user("tia")
    row = add(hosted, "tia")
    client.force_login(ta)
    refused = [
        client.get(url("edition_settings", hosted)),
        client.post(url("edition_settings", hosted), {"title": "mine"}),
        client.post(url("join_code_renew", hosted)),
        client.get(url("edition_people", hosted)),
        client.post(url("role_add", hosted), {"who": "tia", "role": HOST}),
        client.post(url("role_set", hosted, pk=row.pk), {"role": HOST}),
        client.post(url("submissions_pause", hosted), {"action": "pause"}),
        client.post(url("board_freeze", hosted), {"frozen_at": "2030-01-01T00:00"}),
        client.post(url("edition_grades", hosted), {"kind": "bands"}),
        client.post(url("roster_upload", hosted), {}),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    row.refresh_from_db()
    hosted.refresh_from_db()
    assert row.role == TA and hosted.submissions_paused_at is None and hosted.title == ""
    with pytest.raises(ClassroomRefused):
        people.role_set(edition=hosted, by=ta, role_id=row.pk, role=HOST)
    page = client.get(url("edition_host", hosted)).content.decode()
    assert "host-people" not in page and url("edition_settings", hosted) not in page


def test_a_host_adds_a_cohost_who_then_does_everything(client, hosted):
    client.force_login(hosted.host)
    page = client.get(url("edition_host", hosted)).content.decode()
    assert url("edition_people", hosted) in page  # the People link on the host page
    co = user("co")
    response = client.post(url("role_add", hosted), {"who": "co", "role": HOST})
    assert response.status_code == 302
    assert can_host(user=co, edition=hosted)
    client.force_login(co)
    saved = client.post(
        url("edition_settings", hosted),
        {
            **{f: getattr(hosted, f) for f in ("daily_limit", "total_limit", "max_upload_mb")},
            "title": "Co-hosted",
            "opens_at": "2030-01-01T00:00",
            "closes_at": "2040-01-01T00:00",
            "time_zone": "UTC",
            "max_team_size": 3,
            "final_submissions": 2,
            "join_required": "on",
        },
    )
    assert saved.status_code == 302
    hosted.refresh_from_db()
    assert hosted.title == "Co-hosted"
    assert client.get(url("edition_people", hosted)).status_code == 200


def test_an_unknown_username_is_named_and_a_duplicate_refused(client, hosted):
    client.force_login(hosted.host)
    body = client.post(url("role_add", hosted), {"who": "nobody", "role": TA}).content.decode()
    assert "No account is called" in body and "nobody" in body
    user("tia")
    assert client.post(url("role_add", hosted), {"who": "tia", "role": TA}).status_code == 302
    again = client.post(url("role_add", hosted), {"who": "tia", "role": HOST})
    assert again.status_code == 400 and "already teaching assistant" in again.content.decode()
    assert EditionRole.objects.filter(edition=hosted, user__username="tia").count() == 1


def test_the_last_host_can_be_neither_removed_nor_made_an_assistant(client, hosted):
    creator = hosted.host
    (row,) = EditionRole.objects.filter(edition=hosted, role=HOST)
    with pytest.raises(ClassroomRefused, match="at least one host"):
        people.role_remove(edition=hosted, by=creator, role_id=row.pk)
    with pytest.raises(ClassroomRefused, match="at least one host"):
        people.role_set(edition=hosted, by=creator, role_id=row.pk, role=TA)
    client.force_login(creator)
    response = client.post(url("role_remove", hosted, pk=row.pk), follow=True)
    assert "at least one host" in response.content.decode()
    assert can_host(user=creator, edition=hosted)

    # With a second host, the creator may step down to assistant; then they no longer host.
    add(hosted, user("co").username, role=HOST)
    people.role_set(edition=hosted, by=creator, role_id=row.pk, role=TA)
    hosted.refresh_from_db()
    assert hosted.host is None
    assert not can_host(user=creator, edition=hosted) and can_moderate(user=creator, edition=hosted)


def test_an_invitation_by_email_is_claimed_through_its_link(
    client, hosted, people_queue, mailoutbox, django_capture_on_commit_callbacks
):
    with pytest.raises(ClassroomRefused, match="not an e-mail address"):
        add(hosted, "new-ta@")
    client.force_login(hosted.host)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("role_add", hosted), {"who": "New.TA@Example.org", "role": TA})
    row = EditionRole.objects.get(edition=hosted, user__isnull=True)
    assert row.email == "New.TA@Example.org" and row.pending
    (task,) = people_queue()
    assert task["task"] == "leaderboard.tasks.send_people_mail"
    assert task["argsrepr"] == repr(["role", row.pk])
    assert people.people_mail_send(kind="role", pk=row.pk) == "sent"
    (message,) = mailoutbox
    assert message.to == ["New.TA@Example.org"]
    assert "teaching assistant of" in message.body and "/invitation/" in message.body
    link = re.search(r"http://[^/\s]+(/invitation/\S+/)", message.body).group(1)

    client.logout()
    signed = client.post(
        f"{reverse('signup')}?next={link}",
        {
            "username": "newta",
            "email": "new.ta@example.org",
            "password1": "a-long-pass-phrase-9",
            "password2": "a-long-pass-phrase-9",
        },
    )
    assert signed.status_code == 302, signed.content.decode()[:2000]
    newta = get_user_model().objects.get(username="newta")
    assert not can_moderate(user=newta, edition=hosted)  # the address alone grants nothing
    assert client.post(link).status_code == 302
    row.refresh_from_db()
    assert row.user == newta and not row.pending
    assert can_moderate(user=newta, edition=hosted) and not can_host(user=newta, edition=hosted)
    assert client.get(url("edition_host", hosted)).status_code == 200
    assert people.people_mail_send(kind="role", pk=row.pk) == "skipped"  # claimed: no mail


def test_an_invitation_is_not_claimed_at_log_in_by_an_account_using_the_address(client, hosted):
    add(hosted, "later@example.org", role=HOST)
    later = make_user("later")  # an account made without the address, which it adds later
    later.email = "LATER@example.org"
    later.save()
    assert not can_host(user=later, edition=hosted)
    client.post(reverse("login"), {"username": "later", "password": "pw-for-tests-1"})
    assert not can_host(user=later, edition=hosted)  # addresses are not verified
    assert EditionRole.objects.filter(edition=hosted, user__isnull=True).exists()


def test_a_new_edition_of_a_challenge_gets_the_challenges_hosts(client, hosted):
    co = user("co")
    ta = user("tia")
    add(hosted, "co", role=HOST)
    add(hosted, "tia", role=TA)
    hosted.challenge.created_by = user("author")
    hosted.challenge.save()
    now = timezone.now()
    newer = services.edition_create(
        challenge=hosted.challenge,
        host=co,
        year=2032,
        slug="spring",
        opens_at=now,
        closes_at=now + dt.timedelta(days=10),
    )
    hosts = set(
        EditionRole.objects.filter(edition=newer, role=HOST).values_list(
            "user__username", flat=True
        )
    )
    assert hosts == {"prof", "co", "author"}  # the challenge's hosts; assistants are per term
    assert not can_moderate(user=ta, edition=newer)
    yearly, created = services.edition_get_or_create(challenge=hosted.challenge, year=2033)
    assert created  # as create_challenge and the demo make editions
    assert {r.user.username for r in EditionRole.objects.filter(edition=yearly)} == hosts
    other = services.edition_create(
        challenge=make_challenge(slug="other", title="Other"),
        host=user("solo"),
        year=2032,
        slug="x",
        opens_at=now,
        closes_at=now + dt.timedelta(days=10),
    )
    assert list(
        EditionRole.objects.filter(edition=other).values_list("user__username", flat=True)
    ) == ["solo"]


def test_existing_single_host_editions_keep_their_host_after_the_migration(challenge):
    """The data migration of 0014 on rows as they were before it: each edition's ``host``
    becomes a host role; running it twice adds nothing; an edition without a host gets none."""
    old_host = user("old")
    before = make_edition(challenge=challenge, year=2020)
    Edition.objects.filter(pk=before.pk).update(host=old_host)
    hostless = make_edition(challenge=challenge, year=2021)
    migration = importlib.import_module("leaderboard.migrations.0014_people")

    migration.hosts_to_roles(django_apps, None)
    migration.hosts_to_roles(django_apps, None)

    assert list(EditionRole.objects.values_list("edition_id", "user_id", "role")) == [
        (before.pk, old_host.pk, HOST)
    ]
    before.refresh_from_db()
    assert can_host(user=old_host, edition=before)
    assert not EditionRole.objects.filter(edition=hostless).exists()
    # An edition whose host was set directly (no row) still hosts, and is listed as such.
    direct = make_edition(challenge=challenge, year=2022)
    Edition.objects.filter(pk=direct.pk).update(host=old_host)
    direct.refresh_from_db()
    assert can_host(user=old_host, edition=direct)
    (listed,) = selectors.people.edition_roles(edition=direct)
    assert listed.user == old_host and listed.role == HOST


# Roster ------------------------------------------------------------------------------------

GOOD = (
    b"email,name,team\n"
    b"ann@example.org,Ann Lee,Owls\n"
    b"bob@example.org,Bob Roy,Owls\n"
    b"\n"
    b"cy@example.org,Cy Day,\n"
)


def upload(client, edition, data: bytes, name: str = "roster.csv", invite: bool = True):
    form = {"file": SimpleUploadedFile(name, data, content_type="text/csv")}
    if invite:
        form["invite"] = "on"
    return client.post(url("roster_upload", edition), form)


def test_a_good_roster_is_imported_and_each_student_invited(
    client, hosted, people_queue, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(hosted.host)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, hosted, GOOD)
    assert response.status_code == 302
    rows = list(RosterEntry.objects.filter(edition=hosted).order_by("email"))
    assert [(r.email, r.name, r.team_name) for r in rows] == [
        ("ann@example.org", "Ann Lee", "Owls"),
        ("bob@example.org", "Bob Roy", "Owls"),
        ("cy@example.org", "Cy Day", ""),
    ]
    assert all(r.invited_at and r.invitations == 1 for r in rows)
    tasks = people_queue()
    assert sorted(t["argsrepr"] for t in tasks) == sorted(repr(["roster", r.pk]) for r in rows)
    for row in rows:
        people.people_mail_send(kind="roster", pk=row.pk)
    by_address = {m.to[0]: m for m in mailoutbox}
    assert set(by_address) == {"ann@example.org", "bob@example.org", "cy@example.org"}
    ann = by_address["ann@example.org"]
    assert "/invitation/" in ann.body and "Hello Ann Lee" in ann.body
    assert 'team "Owls"' in ann.body
    page = client.get(url("edition_people", hosted)).content.decode()
    assert "0</strong> of 3 joined" in page and "Cy Day" in page


def test_a_roster_with_bad_rows_names_each_and_imports_nothing(client, hosted):
    client.force_login(hosted.host)
    RosterEntry.objects.create(edition=hosted, email="keep@example.org", name="Kept")
    bad = (
        b"email,name,team\n"
        b"ann@example.org,Ann Lee,Owls\n"
        b"not-an-address,Bob Roy,\n"
        b"cy@example.org,,\n"
        b"ANN@example.org,Ann Again,\n"
    )
    response = upload(client, hosted, bad)
    assert response.status_code == 400
    body = response.content.decode()
    assert "Nothing was imported from roster.csv" in body
    assert "Line 3: &#x27;not-an-address&#x27; is not an e-mail address." in body
    assert "Line 4: the name is empty." in body
    assert "Line 5: ANN@example.org is already on line 2." in body
    assert "Line 2" not in body
    assert list(RosterEntry.objects.filter(edition=hosted).values_list("email", flat=True)) == [
        "keep@example.org"
    ]
    with pytest.raises(people.RosterRefused) as refused:
        people.roster_parse(b"mail;student\nx@example.org;X\n\xff\xfe\n")
    assert refused.value.problems == [(3, "not UTF-8 text; save the file as CSV UTF-8.")]
    with pytest.raises(people.RosterRefused, match="no name column"):
        people.roster_parse(b"email,team\nx@example.org,Owls\n")


def test_uploading_the_roster_again_updates_without_duplicating(
    client, hosted, people_queue, django_capture_on_commit_callbacks
):
    client.force_login(hosted.host)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, hosted, GOOD)
    first = {r.email: r.pk for r in RosterEntry.objects.filter(edition=hosted)}
    sent = len(people_queue())
    corrected = (
        b"E-mail;Name;Team\n"  # another program's header and separator
        b"ANN@example.org;Ann Lee-Park;Owls\n"
        b"bob@example.org;Bob Roy;Owls\n"
        b"cy@example.org;Cy Day;\n"
        b"dee@example.org;Dee Fox;Larks\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, hosted, corrected)
    assert response.status_code == 302
    message = client.get(url("edition_people", hosted)).content.decode()
    assert "1 added, 1 updated, 2 unchanged; 1 invitation mailed." in message
    rows = {r.email.lower(): r for r in RosterEntry.objects.filter(edition=hosted)}
    assert len(rows) == 4
    assert rows["ann@example.org"].pk == first["ann@example.org"]
    assert rows["ann@example.org"].name == "Ann Lee-Park"
    assert rows["ann@example.org"].invitations == 1  # not invited twice by the upload
    assert len(people_queue()) == sent + 1  # only the new student


def test_the_claim_link_admits_an_invited_student_and_the_roster_shows_it(client, hosted):
    people.roster_import(edition=hosted, by=hosted.host, data=GOOD, invite=False)
    ann = user("ann")
    entry = RosterEntry.objects.get(edition=hosted, email="ann@example.org")
    message = people.people_message(kind="roster", pk=entry.pk)
    link = next(line for line in message.body.splitlines() if "/invitation/" in line).strip()
    path = link.removeprefix("http://127.0.0.1:8000")
    client.force_login(ann)
    assert "Accept as ann" in client.get(path).content.decode()
    joined = client.post(path)
    assert joined.status_code == 302
    assert Participant.objects.filter(edition=hosted, user=ann).exists()
    (row,) = [r for r in roster_status(edition=hosted) if r.entry.email == "ann@example.org"]
    assert row.user == ann and row.joined and row.team is None and row.state == "no team"


def test_one_team_per_student_uses_the_rosters_team_names(client, hosted, settings):
    people.roster_import(edition=hosted, by=hosted.host, data=GOOD, invite=False)
    ann, bob, cy = user("ann"), user("bob"), user("cy")
    for student in (ann, bob, cy):
        services.edition_join(edition=hosted, user=student, code=hosted.join_code)
        entry = RosterEntry.objects.get(edition=hosted, email=student.email)
        message = people.people_message(kind="roster", pk=entry.pk)
        link = re.search(r"http://[^/\s]+(/invitation/\S+/)", message.body).group(1)
        client.force_login(student)
        assert client.post(link).status_code == 302  # each student accepts their invitation
    make_team(edition=hosted, name="cy", users=[user("other")])  # the name is taken
    client.force_login(hosted.host)
    response = client.post(url("roster_teams", hosted))
    assert response.status_code == 302
    teams = {m.user.username: m.team.name for m in Membership.objects.filter(edition=hosted)}
    assert teams == {"ann": "Owls", "bob": "Owls", "cy": "cy (2)", "other": "cy"}
    made = Team.objects.filter(edition=hosted, name__in=["Owls", "cy (2)"])
    assert len({t.join_code for t in made if t.join_code}) == 2  # members may invite by code
    make_scored(edition=hosted, team=Team.objects.get(name="Owls"), top1=0.5, top5=0.2)
    states = {r.entry.email: r.state for r in roster_status(edition=hosted)}
    assert states == {
        "ann@example.org": "submitted",
        "bob@example.org": "submitted",
        "cy@example.org": "in a team",
    }
    again = client.post(url("roster_teams", hosted), follow=True).content.decode()
    assert "0 students placed" in again  # nobody moved twice


def test_a_stranger_finds_no_people_page(client, hosted):
    client.force_login(user("eve"))
    assert client.get(url("edition_people", hosted)).status_code == 404
    assert client.post(url("roster_upload", hosted), {}).status_code == 404

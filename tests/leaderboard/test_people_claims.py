"""Claim links (issue 16, section 1): addresses are not verified, so a pending role or a roster
row goes only to the signed-in user who opens the signed link mailed to the address, once.

The attack first: someone who signs up and logs in with an invited address gets no role and is
not taken for the roster's student. Then the real invitee's link, used once; a tampered, an
expired and a replaced link refused with a page that says what to do; one team per student
placing only the students who accepted. Real services, pages and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from leaderboard import services
from leaderboard.models import EditionRole, Membership, Participant, RosterEntry
from leaderboard.selectors.people import roster_status
from leaderboard.selectors.permissions import can_host, can_moderate
from leaderboard.services import people

from .test_people import GOOD, TA, add, url, user

pytestmark = pytest.mark.django_db
HOST = EditionRole.Role.HOST


@pytest.fixture
def hosted(challenge):
    """An open edition whose creator is its host (as test_people's fixture)."""
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


def link(kind: str, pk: int) -> str:
    """The path of the claim link in the mail as it would be sent now."""
    body = people.people_message(kind=kind, pk=pk).body
    (found,) = re.findall(r"https?://[^/\s]+(/invitation/[^\s]+/)", body)
    return found


def sign_up(client, username: str, email: str, next_url: str = ""):
    return client.post(
        reverse("signup") + (f"?next={next_url}" if next_url else ""),
        {
            "username": username,
            "email": email,
            "password1": "a-long-pass-phrase-9",
            "password2": "a-long-pass-phrase-9",
        },
    )


def test_an_attacker_using_an_invited_address_gets_no_role_and_is_no_student(client, hosted):
    row = add(hosted, "ta@example.org", role=TA)
    add(hosted, "cohost@example.org", role=HOST)
    people.roster_import(edition=hosted, by=hosted.host, data=GOOD, invite=True)
    assert sign_up(client, "mallory", "TA@example.org").status_code == 302
    mallory = get_user_model().objects.get(username="mallory")
    client.logout()
    assert (
        client.post(
            reverse("login"), {"username": "mallory", "password": "a-long-pass-phrase-9"}
        ).status_code
        == 302
    )
    sneaky = user("sneaky", "ann@example.org")  # the roster student's address
    client.force_login(sneaky)
    for who in (mallory, sneaky):
        assert not can_moderate(user=who, edition=hosted)
    # An address that an account uses is still only invited: the account gets nothing.
    used = add(hosted, "sneaky@example.org", role=HOST)
    assert used.pending and not can_host(user=sneaky, edition=hosted)
    row.refresh_from_db()
    assert row.pending and row.claimed_at is None
    rows = {r.entry.email: r for r in roster_status(edition=hosted)}
    assert rows["ann@example.org"].user is None and not rows["ann@example.org"].joined
    assert rows["ann@example.org"].state == "not accepted"
    client.force_login(hosted.host)
    page = client.get(url("edition_people", hosted)).content.decode()
    assert "sneaky" not in page.split('id="roster"')[1]
    assert "waiting for the student to accept" in page and "0</strong> of 3 joined" in page
    assert people.roster_teams_make(edition=hosted, by=hosted.host) == 0
    assert not Membership.objects.filter(edition=hosted).exists()


def test_the_invitees_link_grants_the_role_once_after_sign_up(client, hosted):
    row = add(hosted, "New.TA@Example.org", role=TA)
    path = link("role", row.pk)
    visitor = client.get(path).content.decode()
    assert "teaching assistant" in visitor and "Sign up or log in first" in visitor
    signed = sign_up(client, "newta", "whatever@example.org", next_url=path)
    assert signed.status_code == 302 and signed["Location"] == path  # back to the link
    page = client.get(path).content.decode()
    assert "Accept as newta" in page
    newta = get_user_model().objects.get(username="newta")
    assert not can_moderate(user=newta, edition=hosted)  # not before accepting
    accepted = client.post(path)
    assert accepted.status_code == 302 and accepted["Location"] == url("edition_host", hosted)
    row.refresh_from_db()
    assert row.user == newta and row.claimed_at is not None and not row.pending
    assert can_moderate(user=newta, edition=hosted) and not can_host(user=newta, edition=hosted)
    assert people.people_mail_send(kind="role", pk=row.pk) == "skipped"

    other = user("other")  # the same link a second time, by anyone
    client.force_login(other)
    for response in (client.get(path), client.post(path)):
        assert response.status_code == 410
        assert "already been used" in response.content.decode()
    assert not can_moderate(user=other, edition=hosted)
    assert EditionRole.objects.filter(edition=hosted, user=newta).count() == 1


def test_tampered_expired_and_replaced_links_are_refused(client, hosted, settings):
    row = add(hosted, "ta@example.org", role=HOST)
    path = link("role", row.pk)
    taker = user("taker")
    client.force_login(taker)
    token = path.split("/")[2]
    tampered = f"/invitation/{token[:-3]}{'AAA' if token[-3:] != 'AAA' else 'BBB'}/"
    response = client.post(tampered)
    assert response.status_code == 400
    assert "not a valid invitation link" in response.content.decode()
    forged = people.claim_path(kind="role", pk=row.pk, nonce="guessed-nonce")
    assert client.post(forged).status_code == 410  # signed, but not this invitation's nonce

    settings.PEOPLE_CLAIM_MAX_AGE = -1  # every link is older than that
    response = client.post(path)
    assert response.status_code == 410 and "has expired" in response.content.decode()
    settings.PEOPLE_CLAIM_MAX_AGE = 3600

    client.force_login(hosted.host)
    again = client.post(url("role_invite_again", hosted, pk=row.pk), follow=True)
    assert "the old link no longer works" in again.content.decode()
    fresh = link("role", row.pk)
    assert fresh != path
    client.force_login(taker)
    response = client.post(path)
    assert (
        response.status_code == 410
        and "replaced by a newer invitation" in response.content.decode()
    )
    assert not can_host(user=taker, edition=hosted)
    assert client.post(fresh).status_code == 302
    assert can_host(user=taker, edition=hosted)


def test_a_roster_link_makes_its_holder_the_student_and_reinvite_kills_the_old(client, hosted):
    people.roster_import(edition=hosted, by=hosted.host, data=GOOD, invite=True)
    entry = RosterEntry.objects.get(edition=hosted, email="ann@example.org")
    old = link("roster", entry.pk)
    assert people.roster_invite(edition=hosted, by=hosted.host, entry_ids=[entry.pk]) == 1
    entry.refresh_from_db()
    assert entry.invitations == 2
    new = link("roster", entry.pk)
    ann = user("annie", "someone-else@example.org")  # any address: the link is the proof
    client.force_login(ann)
    assert client.post(old).status_code == 410
    accepted = client.post(new)
    assert accepted.status_code == 302 and accepted["Location"] == url("team", hosted)
    entry.refresh_from_db()
    assert entry.user == ann and entry.claimed_at is not None
    assert Participant.objects.filter(edition=hosted, user=ann).exists()
    (row,) = [r for r in roster_status(edition=hosted) if r.entry.pk == entry.pk]
    assert row.user == ann and row.joined and row.state == "no team"
    bob = RosterEntry.objects.get(edition=hosted, email="bob@example.org")
    refused = client.post(link("roster", bob.pk))  # one account, one row
    assert refused.status_code == 400 and "already on this class list" in refused.content.decode()
    assert people.roster_invite(edition=hosted, by=hosted.host, entry_ids=[entry.pk]) == 0


def test_one_team_per_student_places_only_students_who_accepted(client, hosted):
    people.roster_import(edition=hosted, by=hosted.host, data=GOOD, invite=True)
    rows = {e.email: e for e in RosterEntry.objects.filter(edition=hosted)}
    ann, bob = user("ann"), user("bob")  # bob has the address, but never opens his link
    client.force_login(ann)
    assert client.post(link("roster", rows["ann@example.org"].pk)).status_code == 302
    assert people.roster_teams_make(edition=hosted, by=hosted.host) == 1
    teams = {m.user.username: m.team.name for m in Membership.objects.filter(edition=hosted)}
    assert teams == {"ann": "Owls"}
    assert not Membership.objects.filter(user=bob).exists()
    states = {r.entry.email: r.state for r in roster_status(edition=hosted)}
    assert states == {
        "ann@example.org": "in a team",
        "bob@example.org": "not accepted",
        "cy@example.org": "not accepted",
    }


def test_sign_up_follows_next_only_on_this_site(client):
    away = sign_up(client, "wanderer", "w@example.org", next_url="https://elsewhere.example/")
    assert away.status_code == 302 and away["Location"] == reverse("challenge_list")

"""Classroom pages through Django's test client: hosts create and run an edition, students
join and form teams, finals, moderation as the team sees it, CSV exports for grading."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from leaderboard import services
from leaderboard.models import Edition, Participant, Submission, Team

from .factories import make_edition, make_scored, make_team, make_user

pytestmark = pytest.mark.django_db


def host_url(edition, name: str = "edition_host", **kwargs) -> str:
    return reverse(name, kwargs={"slug": edition.challenge.slug, "edition": edition.slug, **kwargs})


def edition_form(challenge, **overrides) -> dict:
    return {
        "challenge": challenge.pk,
        "title": "Deep learning, autumn",
        "year": 2026,
        "slug": "autumn",
        "opens_at": "2026-01-05T09:00",
        "closes_at": "2036-01-20T23:59",
        "time_zone": "Asia/Tokyo",
        "daily_limit": 3,
        "total_limit": 30,
        "max_upload_mb": 50,
        "max_team_size": 2,
        "final_submissions": 1,
        "join_required": "on",
        **overrides,
    }


def test_an_instructor_with_the_permission_creates_an_edition_in_their_time_zone(client, challenge):
    teacher = make_user("teacher")
    client.force_login(teacher)
    refused = client.get(reverse("edition_create"))  # no permission yet: why, and whom to ask
    assert refused.status_code == 403
    assert "“Can add edition” permission" in refused.content.decode()
    teacher.user_permissions.add(Permission.objects.get(codename="add_edition"))

    response = client.post(reverse("edition_create"), edition_form(challenge))

    edition = Edition.objects.get(slug="autumn")
    assert response.status_code == 302 and response["Location"] == host_url(edition)
    assert edition.host == teacher and edition.join_required and edition.join_code
    assert edition.time_zone == "Asia/Tokyo"
    assert edition.closes_at.isoformat() == "2036-01-20T14:59:00+00:00"  # 23:59 in Tokyo
    page = client.get(host_url(edition)).content.decode()
    assert edition.join_code in page and f"/join/{edition.join_code}/" in page


def test_edition_form_errors_are_shown(admin_client, challenge):
    form = edition_form(challenge, closes_at="2025-01-01T00:00")
    body = admin_client.post(reverse("edition_create"), form).content.decode()
    assert "must close after it opens" in body
    taken = make_edition(challenge=challenge, year=2026)
    Edition.objects.filter(pk=taken.pk).update(slug="autumn")
    body = admin_client.post(reverse("edition_create"), edition_form(challenge)).content.decode()
    assert "already" in body


def test_a_classroom_edition_is_named_by_its_title_beside_the_demo_of_the_same_year(
    client, challenge
):
    make_edition(challenge=challenge, year=2026)
    course = make_edition(challenge=challenge, year=2025)
    Edition.objects.filter(pk=course.pk).update(
        year=2026, slug="spring", title="Deep learning, spring"
    )
    course.refresh_from_db()
    client.force_login(make_user("student"))

    home = client.get(reverse("challenge_list")).content.decode()
    assert '">2026</a>' in home and '">Deep learning, spring</a>' in home  # the two pills
    submit = client.get(host_url(course, "submit")).content.decode()
    assert "<h1>Submit to Deep learning, spring</h1>" in submit
    board = client.get(course.get_absolute_url()).content.decode()
    assert "<h1>Deep learning, spring leaderboard</h1>" in board
    assert "</a> / Deep learning, spring</p>" in board  # the breadcrumbs


def test_host_pages_are_hidden_from_everyone_else(client, challenge):
    edition = make_edition(challenge=challenge)
    client.force_login(make_user("student"))
    for name in ("edition_host", "edition_settings", "standings_csv", "submissions_csv"):
        assert client.get(host_url(edition, name)).status_code == 404
    assert client.post(host_url(edition, "join_code_renew")).status_code == 404


def test_invite_link_joins_on_post_only(client, challenge):
    edition = make_edition(challenge=challenge)
    Edition.objects.filter(pk=edition.pk).update(join_required=True)
    services.edition_join_code_renew(edition=edition)
    student = make_user("sam")
    client.force_login(student)
    link = reverse("join_link", args=[edition.join_code])

    assert "Join with code" in client.get(link).content.decode()
    assert not Participant.objects.exists()
    response = client.post(link)
    assert response.status_code == 302 and response["Location"] == host_url(edition, "team")
    assert Participant.objects.get().user == student
    # The code typed into the form leads to the same page.
    response = client.post(reverse("join"), {"code": edition.join_code.lower()})
    assert response["Location"] == link
    assert client.get(reverse("join_link", args=["NOSUCHCO"])).status_code == 404


def test_team_page_create_invite_accept_and_choose_finals(client, challenge):
    edition = make_edition(challenge=challenge)
    ann, bob = make_user("ann"), make_user("bob")
    client.force_login(ann)
    client.post(host_url(edition, "team_create"), {"name": "Owls"})
    team = Team.objects.get(name="Owls")
    client.post(host_url(edition, "team_invite"), {"username": "bob"})
    page = client.get(host_url(edition, "team")).content.decode()
    assert team.join_code in page and "Invited: bob" in page

    client.force_login(bob)
    invitation = team.invitations.get()
    assert "invites you to" in client.get(host_url(edition, "team")).content.decode()
    client.post(reverse("invitation_answer", args=[invitation.pk]), {"answer": "accept"})
    assert set(team.members.values_list("username", flat=True)) == {"ann", "bob"}

    a = make_scored(edition=edition, team=team, top1=0.2, top5=0.1)
    b = make_scored(edition=edition, team=team, top1=0.3, top5=0.2)
    page = client.get(host_url(edition, "team")).content.decode()
    assert "counts by default" in page
    client.post(host_url(edition, "team_finals"), {"final": [str(b.pk)]})
    assert list(Submission.objects.filter(is_final=True)) == [b]
    Edition.objects.filter(pk=edition.pk).update(final_submissions=1)
    response = client.post(
        host_url(edition, "team_finals"), {"final": [str(a.pk), str(b.pk)]}, follow=True
    )
    assert "Choose at most 1 final submission." in response.content.decode()
    assert list(Submission.objects.filter(is_final=True)) == [b]


def test_team_page_shows_refusals_as_messages(client, challenge):
    edition = make_edition(challenge=challenge)
    edition.max_team_size = 1
    edition.save()
    owner = make_user("own")
    team = services.team_create(edition=edition, user=owner, name="Solo")
    client.force_login(make_user("late"))
    response = client.post(host_url(edition, "team_join"), {"code": team.join_code}, follow=True)
    assert "is full" in response.content.decode()


def test_moderation_from_the_dashboard_reaches_the_team(client, challenge):
    host = make_user("prof")
    edition = make_edition(challenge=challenge)
    edition.host = host
    edition.save()
    student = make_user("sam")
    team = make_team(edition=edition, name="Owls", users=[student])
    entry = make_scored(edition=edition, team=team, top1=0.1, top5=0.1)
    client.force_login(host)
    url = host_url(edition, "entry_moderate", pk=entry.pk)

    refused = client.post(url, {"action": "disqualified", "reason": ""}, follow=True)
    assert "Give a reason" in refused.content.decode()
    client.post(url, {"action": "disqualified", "reason": "used the test labels"})
    assert "No scored submissions yet." in client.get(edition.get_absolute_url()).content.decode()

    client.force_login(student)
    mine = client.get(reverse("my_submissions")).content.decode()
    assert "Disqualified by the hosts: used the test labels" in mine
    detail = client.get(entry.get_absolute_url()).content.decode()
    assert "used the test labels" in detail
    team_page = client.get(host_url(edition, "team")).content.decode()
    assert "used the test labels" in team_page


def rows(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_exports_for_grading(client, challenge):
    edition = make_edition(challenge=challenge, open_now=False)
    host = make_user("prof")
    Edition.objects.filter(pk=edition.pk).update(host=host)
    ann = make_user("ann")
    ann.email = "ann@example.org"
    ann.save()
    owls = make_team(edition=edition, name="Owls", users=[ann])
    make_team(edition=edition, name="Idle", users=[make_user("idle")])
    make_scored(edition=edition, team=owls, top1=0.1, top5=0.1, private=(0.5, 0.4))
    final = make_scored(
        edition=edition, team=owls, top1=0.3, top5=0.3, private=(0.2, 0.2), is_final=True
    )
    # A baseline better than every team: the standings neither list it nor count it.
    make_scored(
        edition=edition, team=None, top1=0.01, top5=0.01, private=(0.01, 0.01), baseline=True
    )
    Submission.objects.create(
        edition=edition,
        team=owls,
        method_name="crashed",
        file="x",
        status="failed",
        error_code="platform_error",
    )
    client.force_login(host)

    standings = rows(client.get(host_url(edition, "standings_csv")))
    assert [(r["rank"], r["team"], r["members"], r["emails"]) for r in standings] == [
        ("1", "Owls", "ann", "ann@example.org"),
        ("", "Idle", "idle", ""),
    ]
    assert standings[0]["submission_id"] == str(final.pk)
    assert standings[0]["chosen_as"] == "final" and standings[0]["private_top5_error"] == "0.2"

    everything = rows(client.get(host_url(edition, "submissions_csv")))
    assert len(everything) == 3
    crashed = next(r for r in everything if r["method"] == "crashed")
    assert crashed["counts_against_limits"] == "False" and crashed["team"] == "Owls"
    assert {r["is_final"] for r in everything} == {"True", "False"}


def test_csv_exports_cannot_carry_spreadsheet_formulas(client, challenge):
    edition = make_edition(challenge=challenge, open_now=False)
    host = make_user("prof")
    Edition.objects.filter(pk=edition.pk).update(host=host)
    link = make_team(edition=edition, name='=HYPERLINK("http://x","y")', users=[make_user("m")])
    total = make_team(edition=edition, name="@SUM(1)", users=[make_user("n")])
    make_scored(edition=edition, team=link, top1=0.1, top5=0.1, private=(-0.25, -0.5))
    make_scored(edition=edition, team=total, top1=0.2, top5=0.2, method="-cmd|' /C calc'!A0")
    client.force_login(host)

    standings = rows(client.get(host_url(edition, "standings_csv")))
    assert [r["team"] for r in standings] == ['\'=HYPERLINK("http://x","y")', "'@SUM(1)"]
    assert standings[0]["private_top5_error"] == "-0.5"  # a number, not escaped text
    assert standings[1]["method"] == "'-cmd|' /C calc'!A0"

    everything = rows(client.get(host_url(edition, "submissions_csv")))
    assert {r["team"] for r in everything} == {'\'=HYPERLINK("http://x","y")', "'@SUM(1)"}
    assert {r["private_top1_error"] for r in everything} == {"-0.25", "0.2"}

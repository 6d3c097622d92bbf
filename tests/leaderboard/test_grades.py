"""An edition's grades on a real PostgreSQL board: the host's page, its rule's errors, the CSV
files a gradebook imports, and who may see them."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse

from leaderboard.models import Edition, GradingRule, Participant

from .factories import make_challenge, make_edition, make_scored, make_team, make_user

pytestmark = pytest.mark.django_db


def url(edition: Edition, name: str = "edition_grades") -> str:
    return reverse(name, kwargs={"slug": edition.challenge.slug, "edition": edition.slug})


def student(username: str, first: str = "", last: str = ""):
    return get_user_model().objects.create_user(
        username=username,
        password="pw-for-tests-1",
        email=f"{username}@uni.example",
        first_name=first,
        last_name=last,
    )


def read(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(body.removeprefix("\ufeff"))))


@pytest.fixture
def course(challenge):
    """A closed edition (ranked by private top-5 error) with a host, five teams and a baseline.

    Private top-5 errors: Ada & Bo 0.10 (a final), Cy & Di 0.20, Ed 0.20 (tied with Cy & Di,
    submitted later), Fay 0.40, and a team with no scored entry (Gus). LeNet-5 scores 0.25.
    Public errors differ, so a test that read the public board would fail.
    """
    edition = make_edition(challenge=challenge, open_now=False)
    host = make_user("teacher")
    Edition.objects.filter(pk=edition.pk).update(host=host)
    edition.refresh_from_db()
    people = {
        name: student(name, first.capitalize(), "Student")
        for name, first in (("ada", "ada"), ("bo", "bo"), ("cy", "cy"), ("di", "di"))
    }
    people |= {name: student(name) for name in ("ed", "fay", "gus", "hal")}
    teams = {
        "Alpha": make_team(edition=edition, name="Alpha", users=[people["ada"], people["bo"]]),
        "Beta": make_team(edition=edition, name="Beta", users=[people["cy"], people["di"]]),
        "Gamma": make_team(edition=edition, name="Gamma", users=[people["ed"]]),
        "Delta": make_team(edition=edition, name="Delta", users=[people["fay"]]),
        "Empty": make_team(edition=edition, name="Empty", users=[people["gus"]]),
    }
    Participant.objects.create(edition=edition, user=people["hal"])  # joined, no team
    make_scored(
        edition=edition,
        team=teams["Alpha"],
        top1=0.3,
        top5=0.50,
        private=(0.3, 0.10),
        is_final=True,
    )
    make_scored(edition=edition, team=teams["Alpha"], top1=0.3, top5=0.05, private=(0.3, 0.45))
    make_scored(edition=edition, team=teams["Beta"], top1=0.3, top5=0.30, private=(0.3, 0.20))
    make_scored(edition=edition, team=teams["Gamma"], top1=0.3, top5=0.15, private=(0.3, 0.20))
    make_scored(edition=edition, team=teams["Delta"], top1=0.3, top5=0.12, private=(0.3, 0.40))
    lenet = make_scored(
        edition=edition,
        team=None,
        top1=0.3,
        top5=0.25,
        private=(0.3, 0.25),
        baseline=True,
        method="LeNet-5",
    )
    make_scored(
        edition=edition,
        team=None,
        top1=0.3,
        top5=0.05,
        private=(0.3, 0.05),
        baseline=True,
        method="AlexNet",
    )
    return {"edition": edition, "host": host, "lenet": lenet}


LINEAR_FORM = {
    "kind": "linear",
    "bands": "",
    "full_points_pct": "10",
    "zero_points_pct": "30",
    "max_points": "20",
    "bonus_points": "3",
    "unranked_points": "1",
    "assignment": "Image challenge",
}


def test_the_host_sets_a_linear_rule_with_a_baseline_bonus_and_downloads_the_grades(client, course):
    edition = course["edition"]
    client.force_login(course["host"])
    page = client.get(
        reverse("edition_host", kwargs={"slug": edition.challenge.slug, "edition": edition.slug})
    )
    assert url(edition) in page.content.decode()  # the host page links to the grades
    assert "Save a rule" in client.get(url(edition)).content.decode()

    form = {**LINEAR_FORM, "bonus_baseline": str(course["lenet"].pk)}
    response = client.post(url(edition), form)
    assert response.status_code == 302, response.content.decode()
    rule = GradingRule.objects.get(edition=edition)
    assert (rule.full_points_error, rule.zero_points_error) == (0.10, 0.30)

    rows = read(client.get(url(edition, "edition_grades_csv")))
    got = [
        (r["Username"], r["Team"], r["Rank"], r["private_top5_error_fraction"], r["Points"])
        for r in rows
    ]
    # By hand: 20 * (0.30 - e) / 0.20, + 3 below LeNet-5's 0.25. Alpha 0.10 -> 20 + 3;
    # Beta and Gamma 0.20 share rank 2 -> 10 + 3; Delta 0.40 -> 0; Empty and hal -> 1.
    assert got == [
        ("ada", "Alpha", "1", "0.1", "23.00"),
        ("bo", "Alpha", "1", "0.1", "23.00"),
        ("cy", "Beta", "2", "0.2", "13.00"),
        ("di", "Beta", "2", "0.2", "13.00"),
        ("ed", "Gamma", "2", "0.2", "13.00"),
        ("fay", "Delta", "4", "0.4", "0.00"),
        ("gus", "Empty", "", "", "1.00"),
        ("hal", "", "", "", "1.00"),
    ]
    assert list(rows[0]) == [
        "First name",
        "Last name",
        "Username",
        "Email address",
        "Team",
        "Rank",
        "private_top5_error_fraction",
        "Points",
        "Why",
    ]
    assert (rows[0]["First name"], rows[0]["Email address"]) == ("Ada", "ada@uni.example")
    assert "beats LeNet-5 (25.00%): +3.00 bonus" in rows[0]["Why"]
    assert "tied with 1 other team" in rows[4]["Why"]
    assert rows[6]["Why"].startswith("no scored entry") and rows[7]["Why"].startswith("not in")

    canvas = read(client.get(url(edition, "edition_grades_csv") + "?layout=canvas"))
    assert list(canvas[0]) == [
        "Student",
        "ID",
        "SIS User ID",
        "SIS Login ID",
        "Section",
        "Image challenge",
    ]
    assert [(r["Student"], r["SIS Login ID"], r["Image challenge"]) for r in canvas[:2]] == [
        ("Student, Ada", "ada@uni.example", "23.00"),
        ("Student, Bo", "bo@uni.example", "23.00"),
    ]
    assert len(canvas) == 8

    page = client.get(url(edition)).content.decode()
    assert "out of 23.00 points" in page and "Download grades CSV" in page
    assert "+3.00 for beating LeNet-5; no scored entry: 1.00." in page


def test_rank_bands_with_a_tie_on_the_page_and_in_the_file(client, course):
    edition = course["edition"]
    client.force_login(course["host"])
    form = {**LINEAR_FORM, "kind": "bands", "bands": "1: 10\n2-3: 8\n4+: 5", "bonus_points": "0"}
    assert client.post(url(edition), form).status_code == 302
    rows = read(client.get(url(edition, "edition_grades_csv")))
    assert {r["Team"]: (r["Rank"], r["Points"]) for r in rows} == {
        "Alpha": ("1", "10.00"),
        "Beta": ("2", "8.00"),
        "Gamma": ("2", "8.00"),  # tied with Beta: same rank, same points
        "Delta": ("4", "5.00"),
        "Empty": ("", "1.00"),
        "": ("", "1.00"),
    }
    page = client.get(url(edition)).content.decode()
    assert (
        'data-team="Gamma"' in page
        and "rank 2 of 4, tied with 1 other team, top-5 error 20.00%: ranks 2" in page
    )


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        (
            {"kind": "bands", "bands": "1-3: 10\n3-5: 5"},
            "Ranks 1\u20133 and ranks 3\u20135 overlap",
        ),
        ({"kind": "bands", "bands": "1-3 10"}, "is not a band"),
        ({"kind": "bands", "bands": "1-3: -1"}, "points cannot be negative"),
        ({"full_points_pct": "30", "zero_points_pct": "10"}, "must lie below the error"),
        ({"zero_points_pct": ""}, "Give both errors"),
        ({"max_points": "-2"}, "greater than or equal to 0"),
        ({"bonus_points": "2"}, "Name the baseline a team must beat"),
    ],
)
def test_a_rule_that_cannot_grade_is_shown_with_its_error_and_not_saved(
    client, course, changes, says
):
    client.force_login(course["host"])
    response = client.post(url(course["edition"]), {**LINEAR_FORM, "bonus_points": "0", **changes})
    assert response.status_code == 400
    assert says in response.content.decode()
    assert not GradingRule.objects.exists()


def test_the_bonus_baseline_must_be_one_of_this_editions(client, course):
    other = make_edition(challenge=make_challenge(slug="other"), year=2024)
    foreign = make_scored(
        edition=other, team=None, top1=0.1, top5=0.1, baseline=True, method="ResNet"
    )
    client.force_login(course["host"])
    response = client.post(
        url(course["edition"]), {**LINEAR_FORM, "bonus_baseline": str(foreign.pk)}
    )
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    rule = GradingRule(
        edition=course["edition"],
        kind="linear",
        full_points_error=0.1,
        zero_points_error=0.3,
        bonus_baseline=foreign,
        bonus_points=Decimal(1),
    )
    with pytest.raises(ValidationError) as caught:
        rule.full_clean()
    assert "this edition's leaderboard" in str(caught.value.message_dict["bonus_baseline"])


def test_only_hosts_and_staff_see_the_grades(client, admin_client, course):
    edition = course["edition"]
    GradingRule.objects.create(edition=edition, kind="bands", bands=[[1, None, "5"]])
    for name in ("edition_grades", "edition_grades_csv"):
        anonymous = client.get(url(edition, name))
        assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    client.force_login(get_user_model().objects.get(username="ada"))  # a student
    for name in ("edition_grades", "edition_grades_csv"):
        refused = client.get(url(edition, name))
        assert refused.status_code == 403 and "hosts" in refused.content.decode()
    assert client.post(url(edition), {**LINEAR_FORM}).status_code == 403
    assert GradingRule.objects.get(edition=edition).kind == "bands"
    assert admin_client.get(url(edition, "edition_grades_csv")).status_code == 200


def test_no_file_before_a_rule_and_an_unknown_layout_is_named(client, course):
    edition = course["edition"]
    client.force_login(course["host"])
    response = client.get(url(edition, "edition_grades_csv"))
    assert response.status_code == 302 and response["Location"] == url(edition)
    GradingRule.objects.create(edition=edition, kind="bands", bands=[[1, None, "5"]])
    bad = client.get(url(edition, "edition_grades_csv") + "?layout=blackboard")
    assert bad.status_code == 400 and "blackboard" in bad.content.decode()

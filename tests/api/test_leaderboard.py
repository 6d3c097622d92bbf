"""The leaderboard endpoint: the page's ranking, paginated JSON, and CSV of the whole board."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone

from leaderboard import selectors
from leaderboard.api.pagination import PageNumberPagination
from tests.leaderboard.factories import make_edition, make_scored, make_team, make_user

from .conftest import assert_error

pytestmark = pytest.mark.django_db
URL = "/api/challenges/fmnist/editions/2025/leaderboard/"


def fill(edition, *, teams: int) -> None:
    """``teams`` teams with two entries each, and two baselines."""
    now = timezone.now()
    for i in range(teams):
        team = make_team(
            edition=edition, name=f"team{i:03d}", users=[make_user(f"user{edition.year}-{i:03d}")]
        )
        for j in range(2):
            make_scored(
                edition=edition,
                team=team,
                top1=0.5 - 0.01 * ((i * 7 + j) % teams),
                top5=0.2 - 0.001 * ((i * 13 + j) % teams),
                private=(0.4, 0.1 + 0.001 * i),
                created_at=now - dt.timedelta(minutes=i + j),
                method=f"m{i}-{j}",
            )
    make_scored(edition=edition, team=None, top1=0.6, top5=0.3, baseline=True, method="LeNet")
    make_scored(edition=edition, team=None, top1=0.4, top5=0.15, baseline=True, method="AlexNet")


def expected_rows(edition) -> list[tuple]:
    board = selectors.edition_leaderboard(edition=edition)
    return [(r.position, r.is_baseline, r.method_name, r.metric_value) for r in board.rows]


def test_json_is_the_pages_ranking_page_by_page(api, edition):
    fill(edition, teams=12)
    first = api.get(f"{URL}?page_size=5").json()
    assert (first["phase"], first["metric"], first["count"]) == ("public", "top5", 14)
    rows, body = [], first
    while True:
        rows += body["results"]
        if not body["next"]:
            break
        body = api.get(body["next"]).json()
    got = [(r["position"], r["is_baseline"], r["method_name"], r["top5_error"]) for r in rows]
    assert got == expected_rows(edition)
    assert all(r["entries"] == 2 for r in rows if not r["is_baseline"])
    assert {r["team"] for r in rows if r["is_baseline"]} == {None}


def test_a_closed_edition_ranks_on_the_private_part(api, challenge):
    edition = make_edition(challenge=challenge, open_now=False)
    fill(edition, teams=4)
    body = api.get(URL).json()
    assert body["phase"] == "private"
    got = [
        (r["position"], r["is_baseline"], r["method_name"], r["top5_error"])
        for r in body["results"]
    ]
    assert got == expected_rows(edition)
    assert body["results"][0]["team"] == "team000"  # lowest private top-5

    public = api.get(f"{URL}?board=public").json()  # the board as it stood while running
    assert public["phase"] == "public"
    public_board = selectors.edition_leaderboard(edition=edition, phase="public")
    assert [(r["method_name"], r["top5_error"]) for r in public["results"]] == [
        (r.method_name, r.metric_value) for r in public_board.rows
    ]
    assert [r["method_name"] for r in public["results"]] != [
        r["method_name"] for r in body["results"]
    ]


def test_board_public_is_ignored_while_the_edition_runs(api, edition):
    fill(edition, teams=3)
    assert api.get(f"{URL}?board=public").json()["results"] == api.get(URL).json()["results"]


def test_query_count_does_not_grow_with_the_board(api, challenge, django_assert_num_queries):
    small = make_edition(challenge=challenge, year=2024)
    fill(small, teams=2)
    large = make_edition(challenge=challenge, year=2025)
    fill(large, teams=40)
    with django_assert_num_queries(2):  # the edition, then the ranked board
        api.get("/api/challenges/fmnist/editions/2024/leaderboard/")
    with django_assert_num_queries(2):
        api.get(f"{URL}?page_size=500")


def test_csv_holds_the_whole_board_in_the_same_order(api, edition):
    fill(edition, teams=60)  # more rows than one JSON page
    response = api.get(f"{URL}?format=csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "fmnist-2025-leaderboard.csv" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 62
    assert list(rows[0]) == [
        "position",
        "baseline",  # was is_baseline; a baseline's position is blank
        "team",
        "method_name",
        "method_year",
        "arch",
        "format",
        "top1_error",
        "top5_error",
        "balanced_error",
        "images",
        "entries",
        "submitted_at",
        "robust_error",
    ]
    baseline = [r["baseline"] == "True" for r in rows]
    assert [r["position"] for r, base in zip(rows, baseline, strict=True) if base] == ["", ""]
    got = [
        (int(r["position"]) if r["position"] else None, base, r["method_name"])
        for r, base in zip(rows, baseline, strict=True)
    ]
    assert got == [
        (None if is_baseline else position, is_baseline, name)
        for position, is_baseline, name, _ in expected_rows(edition)
    ]
    assert [float(r["top5_error"]) for r in rows] == [row[3] for row in expected_rows(edition)]
    teams = [int(r["position"]) for r, base in zip(rows, baseline, strict=True) if not base]
    assert teams == list(range(1, 61))  # the teams alone are numbered


def test_csv_through_the_accept_header(api, edition):
    fill(edition, teams=1)
    response = api.get(URL, HTTP_ACCEPT="text/csv")
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode().count("\n") == 4  # header, one team, two baselines


def test_empty_board(api, edition):
    assert api.get(URL).json()["results"] == []
    assert api.get(f"{URL}?format=csv").content.decode().startswith("position,")


def test_errors_are_json_even_when_csv_was_asked_for(api, edition):
    assert_error(
        api.get("/api/challenges/fmnist/editions/1999/leaderboard/?format=csv"), 404, "not_found"
    )


def test_csv_format_with_a_json_only_accept_header_is_not_acceptable_as_json(api, edition):
    response = api.get(f"{URL}?format=csv", HTTP_ACCEPT="application/json")
    assert_error(response, 406, "not_acceptable")


@pytest.mark.parametrize("size", ["0", "-3", "ten", "2.5", ""])
def test_an_unreadable_page_size_is_a_validation_error(api, edition, size):
    body = assert_error(api.get(f"{URL}?page_size={size}"), 400, "validation_error")
    assert "page_size" in body["fields"]


def test_page_size_is_capped(api, edition, monkeypatch):
    assert PageNumberPagination.max_page_size == 500
    monkeypatch.setattr(PageNumberPagination, "max_page_size", 5)
    fill(edition, teams=4)  # 6 rows
    assert len(api.get(f"{URL}?page_size=100000").json()["results"]) == 5


def test_page_past_the_end_is_not_found(api, edition):
    fill(edition, teams=1)
    assert_error(api.get(f"{URL}?page=9"), 404, "not_found")


def test_unknown_format_is_not_found_and_unknown_accept_not_acceptable(api, edition):
    assert api.get(f"{URL}?format=xml").status_code == 404
    assert_error(api.get(URL, HTTP_ACCEPT="application/xml"), 406, "not_acceptable")


def test_csv_cells_cannot_start_spreadsheet_formulas(api, edition):
    link = make_team(edition=edition, name='=HYPERLINK("http://x","y")')
    total = make_team(edition=edition, name="@SUM(1)")
    make_scored(edition=edition, team=link, top1=-0.25, top5=-0.5, method="+1+1")
    make_scored(edition=edition, team=total, top1=0.3, top5=0.2)

    text = api.get(f"{URL}?format=csv").content.decode()

    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["team"] for r in rows] == ['\'=HYPERLINK("http://x","y")', "'@SUM(1)"]
    assert rows[0]["method_name"] == "'+1+1"
    assert (rows[0]["top5_error"], rows[0]["top1_error"]) == ("-0.5", "-0.25")
    assert '\n1,False,"\'=HYPERLINK(""http://x"",""y"")",\'+1+1,' in text

"""Reported results: the CSV rules, the shipped ILSVRC file, the command and the admin import."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from leaderboard import services
from leaderboard.models import ReferenceResult
from leaderboard.services.references import ILSVRC_HISTORY_CSV, ReferenceCSVError

pytestmark = pytest.mark.django_db

SHARED_COPY = Path("/work/shared/reference/ilsvrc_classification_history.csv")
GOOD = "year,team,method,top5_error_pct,note,source\n2012,SuperVision,AlexNet,16.42,,results\n"


def test_the_shipped_ilsvrc_history_has_every_year_with_a_source():
    rows = services.references.reference_rows_parse(text=ILSVRC_HISTORY_CSV.read_text())
    assert [r.year for r in rows] == list(range(2010, 2018))
    assert all(r.source for r in rows)
    by_year = {r.year: r for r in rows}
    assert by_year[2012].team == "SuperVision" and by_year[2012].top5_error == pytest.approx(0.1642)
    assert by_year[2017].top5_error == pytest.approx(0.0225) and by_year[2017].top1_error is None
    if SHARED_COPY.exists():  # the project's copy is the reference file, sources kept
        assert ILSVRC_HISTORY_CSV.read_bytes() == SHARED_COPY.read_bytes()
        with SHARED_COPY.open() as fh:
            assert len(list(csv.DictReader(fh))) == len(rows)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("year,team,top5_error_pct\n2012,A,16\n", "missing column(s): source"),
        ("year,team,source\n2012,A,s\n", "no error column"),
        ("year,team,top5_error_pct,source\ntwelve,A,16,s\n", "line 2: year 'twelve'"),
        ("year,team,top5_error_pct,source\n2012,A,16,\n", "line 2: source is empty"),
        ("year,team,top5_error_pct,source\n2012,A,160,s\n", "is not an error rate"),
        ("year,team,top5_error_pct,source\n2012,A,,s\n", "neither a top-5 nor a top-1"),
        ("year,team,top5_error_pct,source\n2012,A,1,s\n2012,a,2,s\n", "line 3: 2012 'a' appears"),
        ("year,team,top5_error_pct,source\n", "no rows"),
    ],
)
def test_bad_files_are_refused_whole_with_the_line(challenge, text, message):
    with pytest.raises(ReferenceCSVError, match=message.replace("(", r"\(").replace(")", r"\)")):
        services.reference_results_import(challenge=challenge, text=text)
    assert not ReferenceResult.objects.exists()


def test_import_is_idempotent_and_replace_removes_what_the_file_lacks(challenge):
    first = services.reference_results_import_ilsvrc(challenge=challenge)
    again = services.reference_results_import_ilsvrc(challenge=challenge)
    assert (first.created, again.created, again.updated) == (8, 0, 8)
    fractions = "year,team,top1_error,source\n2012,SuperVision,0.375,paper\n"
    outcome = services.reference_results_import(challenge=challenge, text=fractions, replace=True)
    assert (outcome.created, outcome.updated, outcome.deleted) == (0, 1, 7)
    (row,) = ReferenceResult.objects.all()
    assert (row.top1_error, row.top5_error, row.source) == (0.375, None, "paper")


def test_command_attaches_the_file_it_is_given(challenge, capsys, tmp_path):
    """No default file: ImageNet's numbers on another set's chart would mislead."""
    with pytest.raises(CommandError, match="--csv"):
        call_command("import_reported", "--challenge", challenge.slug)
    call_command("import_reported", "--challenge", challenge.slug, "--csv", str(ILSVRC_HISTORY_CSV))
    assert ReferenceResult.objects.filter(challenge=challenge).count() == 8
    assert "8 reported result(s) added" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("year,team\n")
    with pytest.raises(CommandError, match="missing column"):
        call_command("import_reported", "--challenge", challenge.slug, "--csv", str(bad))
    with pytest.raises(CommandError, match="no challenge"):
        call_command("import_reported", "--challenge", "nope", "--csv", str(bad))


def test_admin_imports_a_csv_upload(admin_client, challenge):
    url = reverse("admin:leaderboard_challenge_import_reported", args=[challenge.pk])
    assert (
        "Import reported results"
        in admin_client.get(
            reverse("admin:leaderboard_challenge_change", args=[challenge.pk])
        ).content.decode()
    )
    response = admin_client.post(url, {"file": SimpleUploadedFile("r.csv", GOOD.encode())})
    assert response.status_code == 302
    assert ReferenceResult.objects.get().team == "SuperVision"
    bad = admin_client.post(url, {"file": SimpleUploadedFile("r.csv", b"year,team\n1,2\n")})
    assert bad.status_code == 200 and "missing column" in bad.content.decode()

"""Every command against a live site over HTTP, and the message each failure prints."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import pickle
import socket
import sys

import pytest
from django.utils import timezone

from leaderboard import selectors
from leaderboard.api import tokens
from leaderboard.client.errors import CliError
from leaderboard.client.transport import Api
from leaderboard.models import ApiToken, RobustnessRun, Submission
from tests.leaderboard.factories import (
    make_challenge,
    make_edition,
    make_scored,
    make_team,
    make_user,
    onnx_bytes,
)

from .conftest import assert_failed

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "resnet.onnx"
    path.write_bytes(onnx_bytes())
    return path


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- login -------------------------------------------------------------------------------------


def test_login_checks_the_token_then_stores_it(cli, server, token, client_home):
    run = cli("login", "--server", server, "--token", token.key)
    assert run.code == 0, run.err
    assert f"logged in to {server} as alice" in run.out
    stored = json.loads((client_home / "leaderboard" / "config.json").read_text())
    assert stored == {"server": server, "tokens": {server: token.key}}
    assert cli("challenges").code == 0  # the stored server is now the default


def test_login_reads_the_token_from_stdin(cli, server, token, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(token.key + "\n"))
    assert cli("login", "--server", server, "--token", "-").code == 0


def test_login_with_a_wrong_token_stores_nothing(cli, server, edition, client_home):
    run = cli("login", "--server", server, "--token", "not-a-token")
    assert_failed(run, "token_invalid", "token invalid or revoked: run `leaderboard-cli login`")
    assert not (client_home / "leaderboard" / "config.json").exists()


def test_login_without_a_token_or_a_terminal(cli, server, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert_failed(cli("login", "--server", server), "token_required", "--token")


def test_logout_forgets_the_token(cli, logged_in):
    run = cli("logout")
    assert run.code == 0 and "/me/tokens/" in run.out
    assert_failed(cli("submissions"), "not_authenticated", "run `leaderboard-cli login`")


# --- tokens that stopped working ----------------------------------------------------------------


def test_a_revoked_token_says_what_to_do(cli, logged_in, user, edition, model):
    tokens.token_revoke(user=user)
    run = cli("submit", model, "--edition", "fmnist/2025")
    assert_failed(run, "token_invalid", "token invalid or revoked: run `leaderboard-cli login`")
    assert Submission.objects.count() == 0


def test_an_expired_token_says_so(cli, logged_in, token, settings):
    settings.API_TOKEN_TTL_DAYS = 1
    ApiToken.objects.filter(pk=token.token.pk).update(created=timezone.now() - dt.timedelta(days=2))
    assert_failed(cli("submissions"), "token_expired", "token expired", "/me/tokens/")


def test_an_environment_token_overrides_the_stored_one(cli, logged_in, monkeypatch):
    monkeypatch.setenv("LEADERBOARD_TOKEN", "0" * 40)
    assert_failed(cli("submissions"), "token_invalid")


# --- submit ------------------------------------------------------------------------------------


def test_submit_uploads_with_a_progress_bar(cli, logged_in, edition, model):
    run = cli("submit", model, "--edition", "fmnist/2025", "--method", "ResNet", "--arch", "")

    assert run.code == 0, run.err
    submission = Submission.objects.get()
    assert (submission.method_name, submission.format) == ("ResNet", "onnx")
    assert submission.original_name == "resnet.onnx"
    assert f"submitted {submission.pk} to Fashion 2025: queued" in run.out
    assert f"leaderboard-cli status {submission.pk} --wait" in run.out
    assert "uploading resnet.onnx" in run.err and "100%" in run.err  # tqdm on stderr


def test_submit_json_and_quiet(cli, logged_in, edition, model):
    run = cli("--json", "submit", model, "--edition", "2025", "--quiet")
    assert run.code == 0, run.err
    body = json.loads(run.out)  # stdout holds the JSON document only
    assert body["status"] == "queued" and body["method_name"] == "resnet"
    assert "100%" not in run.err


def test_submit_to_an_ambiguous_or_unknown_edition(cli, logged_in, edition, model):
    make_edition(challenge=make_challenge(slug="cifar", title="CIFAR"), year=2025)
    run = cli("submit", model, "--edition", "2025")
    assert_failed(run, "ambiguous_edition", "cifar/2025", "fmnist/2025")
    assert_failed(cli("submit", model, "--edition", "1999"), "not_found", "fmnist/2025")
    assert_failed(cli("submit", model, "--edition", "fmnist/1999"), "not_found", "fmnist/1999")


def test_a_challenge_slug_alone_names_its_open_edition(cli, server, challenge):
    """As the --help and README examples write it against make run: `--edition demo`."""
    make_edition(challenge=challenge, year=2026, open_now=False)
    make_edition(challenge=challenge, year=2025)
    run = cli("--json", "leaderboard", "fmnist", "--server", server)
    assert run.code == 0, run.err
    assert json.loads(run.out)["edition"] == "2025"  # the open one, not the newer closed one
    assert_failed(cli("leaderboard", "nope", "--server", server), "not_found", "fmnist/2025")


def test_submit_checks_the_size_cap_before_uploading(cli, logged_in, challenge, tmp_path):
    make_edition(challenge=challenge, max_upload_mb=1)
    big = tmp_path / "big.onnx"
    big.write_bytes(onnx_bytes() + b"\0" * (2 * 2**20))
    run = cli("submit", big, "--edition", "fmnist/2025")
    assert_failed(run, "file_too_large", "big.onnx is 2.0 MB", "at most 1 MB")
    assert "uploading" not in run.err


def test_the_servers_413_is_reported_with_the_cap(logged_in, token, challenge, tmp_path):
    make_edition(challenge=challenge, max_upload_mb=1)
    big = tmp_path / "big.onnx"
    big.write_bytes(onnx_bytes() + b"\0" * (2 * 2**20))
    api = Api(server=logged_in, token=token.key)
    with pytest.raises(CliError) as caught:
        api.upload(
            "/api/challenges/fmnist/editions/2025/submissions/",
            fields={"method_name": "m"},
            file=big,
        )
    assert (caught.value.code, caught.value.status) == ("file_too_large", 413)
    assert "limit of 1 MB" in caught.value.message


def test_submit_refusals_print_the_servers_message(cli, logged_in, challenge, tmp_path, model):
    pth = tmp_path / "net.pth"
    pth.write_bytes(pickle.dumps({"w": [1.0]}))
    make_edition(challenge=challenge, daily_limit=1)

    assert_failed(
        cli("submit", pth, "--edition", "fmnist/2025"),
        "pickle_refused",
        "net.pth is a Python pickle",
    )
    assert cli("submit", model, "--edition", "fmnist/2025", "-q").code == 0
    run = cli("submit", model, "--edition", "fmnist/2025", "-q")
    assert_failed(run, "limit_reached", "1 submissions for today")


def test_submit_to_a_closed_edition(cli, logged_in, challenge, model):
    make_edition(challenge=challenge, open_now=False)
    assert_failed(cli("submit", model, "--edition", "fmnist/2025"), "edition_closed", "closed on")


def test_submit_needs_a_login_and_a_file(cli, server, edition, model, tmp_path):
    assert_failed(
        cli("submit", model, "--edition", "fmnist/2025", "--server", server), "not_authenticated"
    )
    missing = tmp_path / "missing.onnx"
    run = cli("submit", missing, "--edition", "x", "--server", server)
    assert_failed(run, "not_authenticated")


def test_a_missing_file_is_named(cli, logged_in, edition, tmp_path):
    missing = tmp_path / "missing.onnx"
    assert_failed(
        cli("submit", missing, "--edition", "fmnist/2025"), "file_not_found", str(missing)
    )


def test_uploads_are_throttled_with_a_retry_time(cli, logged_in, edition, model, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "1000/hour", "submit": "1/hour"},
    }
    assert cli("submit", model, "--edition", "fmnist/2025", "-q").code == 0
    run = cli("submit", model, "--edition", "fmnist/2025", "-q")
    assert_failed(run, "throttled", "try again in")


# --- reading -----------------------------------------------------------------------------------


def test_status_of_own_and_of_others_submissions(cli, logged_in, user, edition):
    mine = make_scored(
        edition=edition,
        team=make_team(edition=edition, name="alice", users=[user]),
        top1=0.25,
        top5=0.125,
    )
    theirs = make_scored(
        edition=edition,
        team=make_team(edition=edition, name="bob", users=[make_user("bob")]),
        top1=0.2,
        top5=0.1,
    )

    run = cli("status", mine.pk)
    assert run.code == 0, run.err
    assert "scored: top-1 error 0.2500, top-5 error 0.1250 (public part" in run.out
    assert "robustness" not in run.out  # no track, no line
    RobustnessRun.objects.create(
        submission=mine,
        status="failed",
        error_code="timeout",
        error_message="The model ran past its time limit.",
        opened_at=mine.created_at,
    )
    run = cli("status", mine.pk)
    (line,) = [line for line in run.out.splitlines() if line.startswith("robustness ")]
    assert line.endswith(
        "not measured (timeout): The model ran past its time limit. The clean "
        "score above is not affected."
    )
    RobustnessRun.objects.filter(submission=mine).update(status="pending")
    assert "waiting for a worker (the clean score above is final" in cli("status", mine.pk).out
    assert "public part  top-1 error 0.2500" in run.out
    assert "private" not in run.out.replace("(public part", "")  # edition still open
    body = json.loads(cli("status", mine.pk, "--json").out)
    assert body["result"]["parts"][0]["part"] == "public"
    assert_failed(cli("status", theirs.pk), "not_found")
    assert_failed(cli("status", "not-an-id"), "not_found")


def test_leaderboard_table_and_csv(cli, server, edition):
    for i, name in enumerate(["ann", "ben", "cy"]):
        team = make_team(edition=edition, name=name, users=[make_user(name)])
        make_scored(
            edition=edition,
            team=team,
            top1=0.3 - i * 0.05,
            top5=0.1 - i * 0.01,
            method=f"net-{name}",
        )
    make_scored(edition=edition, team=None, top1=0.5, top5=0.2, baseline=True, method="AlexNet")

    run = cli("leaderboard", "fmnist/2025", "--server", server)
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert "ranked" not in lines[0] and "top-5 error, on the public part" in lines[0]
    body = [line.split()[1] for line in lines[4:]]
    board = selectors.edition_leaderboard(edition=edition)
    assert body == ["baseline" if r.is_baseline else r.team_name for r in board.rows]

    csv_run = cli("leaderboard", "fmnist/2025", "--csv", "--server", server)
    rows = list(csv.DictReader(io.StringIO(csv_run.out)))
    assert [r["method_name"] for r in rows] == [r.method_name for r in board.rows]


def test_leaderboard_public_after_the_close(cli, server, challenge):
    closed = make_edition(challenge=challenge, year=2024, open_now=False)
    for i, name in enumerate(["ann", "ben"]):  # ann leads on public, ben on private
        team = make_team(edition=closed, name=name, users=[make_user(name)])
        make_scored(
            edition=closed,
            team=team,
            top1=0.3,
            top5=0.1 + i * 0.05,
            private=(0.3, 0.2 - i * 0.1),
            method=f"net-{name}",
        )
    final = cli("leaderboard", "fmnist/2024", "--server", server)
    public = cli("leaderboard", "fmnist/2024", "--public", "--server", server)
    assert "on the private part" in final.out.splitlines()[0]
    assert "on the public part" in public.out.splitlines()[0]
    assert [line.split()[1] for line in final.out.splitlines()[4:]] == ["ben", "ann"]
    assert [line.split()[1] for line in public.out.splitlines()[4:]] == ["ann", "ben"]
    csv_run = cli("leaderboard", "fmnist/2024", "--public", "--csv", "--server", server)
    rows = list(csv.DictReader(io.StringIO(csv_run.out)))
    assert [r["team"] for r in rows] == ["ann", "ben"]


def test_history_table(cli, server, challenge):
    old = make_edition(challenge=challenge, year=2024, open_now=False)
    team = make_team(edition=old, name="winners", users=[make_user("w")])
    make_scored(
        edition=old, team=team, top1=0.3, top5=0.1, private=(0.3, 0.0625), method="AlexNet-ish"
    )
    lenet = make_scored(edition=old, team=None, top1=0.5, top5=0.2, baseline=True, method="LeNet")
    Submission.objects.filter(pk=lenet.pk).update(method_year=1998)
    make_edition(challenge=challenge, year=2025)

    run = cli("history", "fmnist", "--server", server)

    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert next(line for line in lines if line.startswith("1998")).split()[-4:] == [
        "LeNet",
        "0.2000",
        "-",
        "-",
    ]
    row_2024 = next(line for line in lines if line.startswith("2024"))
    assert "winners: AlexNet-ish" in row_2024 and "0.0625" in row_2024
    assert any(line.startswith("2025") for line in lines)
    assert_failed(cli("history", "nope", "--server", server), "not_found", "/api/challenges/nope/")


def test_challenges_and_my_submissions(cli, logged_in, user, edition):
    team = make_team(edition=edition, name="alice", users=[user])
    make_scored(edition=edition, team=team, top1=0.25, top5=0.125, method="mine")
    run = cli("challenges")
    assert "fmnist/2025" in run.out and "Fashion 2025" in run.out and "open" in run.out
    edition.title = "Deep learning, spring"
    edition.save(update_fields=["title"])
    assert "Deep learning, spring" in cli("challenges").out  # a classroom edition: its title
    run = cli("submissions")
    assert run.code == 0 and "mine" in run.out and "0.1250" in run.out
    assert len(json.loads(cli("submissions", "--all", "--json").out)) == 1


# --- the server is not there, or not ours ------------------------------------------------------


def test_an_unreachable_server_is_named(cli):
    url = f"http://127.0.0.1:{closed_port()}"
    run = cli("challenges", "--server", url)
    assert_failed(
        run, "server_unreachable", f"cannot reach the server at {url}", "Connection refused"
    )


def test_a_site_that_is_not_the_api(cli, server):
    run = cli("challenges", "--server", f"{server}/elsewhere")
    assert_failed(run, "http_404", "answered HTTP 404", "address of a leaderboard site?")


def test_unexpected_client_errors_never_print_none(cli, server, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError()

    monkeypatch.setattr(Api, "get_all", broken)
    assert_failed(cli("challenges", "--server", server), "client_error", "ValueError")

"""Fixtures for the command-line client: a private config directory, a live site, a runner.

The client runs in this process (``main(argv)``) against pytest-django's live server over real
HTTP, so requests, uploads and errors take the same path as on a participant's machine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.cache import cache

from leaderboard.api import tokens
from leaderboard.client import config
from leaderboard.client.cli import main
from tests.leaderboard import conftest as site

# The site tests' fixtures: own file roots per test (autouse), rows.
file_roots = site.file_roots
user = site.user
challenge = site.challenge
edition = site.edition


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


@pytest.fixture(autouse=True)
def client_home(monkeypatch, tmp_path: Path) -> Path:
    """XDG_CONFIG_HOME and HOME of this test only; no server or token from the environment."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in (config.ENV_SERVER, config.ENV_TOKEN, "LEADERBOARD_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    cache.clear()  # throttling counts
    return tmp_path / "xdg"


@pytest.fixture
def cli(capsys) -> Callable[..., Run]:
    """Run ``leaderboard-cli ARGS...``; returns the exit status, stdout and stderr."""

    def run(*argv: str) -> Run:
        capsys.readouterr()
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return Run(code=code, out=out, err=err)

    return run


@pytest.fixture
def server(live_server) -> str:
    return live_server.url


@pytest.fixture
def token(transactional_db, user):
    return tokens.token_create(user=user)


@pytest.fixture
def logged_in(server, token) -> str:
    """The config file holds alice's token for the live server, which is the default server."""
    config.save_token(server=server, token=token.key)
    return server


def assert_failed(run: Run, code: str, *texts: str) -> None:
    """Exit 1, one ``error: <message> [<code>]`` line, the texts in it, never an empty message."""
    assert run.code == 1, (run.out, run.err)
    line = run.err.strip().splitlines()[-1]
    assert line.startswith("error: ") and line.endswith(f"[{code}]"), run.err
    assert "None" not in line and len(line) > len(f"error:  [{code}]") + 10, line
    for text in texts:
        assert text in line, line

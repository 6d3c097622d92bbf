"""The config file: where it lives, who may read it, which server and token a run uses."""

from __future__ import annotations

import json
import stat

import pytest

from leaderboard.client import config
from leaderboard.client.errors import CliError


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_saved_where_xdg_says_readable_by_the_owner_only(client_home):
    path = config.save_token(server="https://a.example", token="k1")
    assert path == client_home / "leaderboard" / "config.json"
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    assert json.loads(path.read_text()) == {
        "server": "https://a.example",
        "tokens": {"https://a.example": "k1"},
    }


def test_an_existing_directory_is_tightened(client_home):
    (client_home / "leaderboard").mkdir(parents=True, mode=0o755)
    config.save_token(server="https://a.example", token="k1")
    assert mode(client_home / "leaderboard") == 0o700


def test_without_xdg_or_with_a_relative_one_it_is_under_home(monkeypatch, tmp_path):
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert config.config_path() == tmp_path / "home" / ".config" / "leaderboard" / "config.json"
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/dir")
    assert config.config_path() == tmp_path / "home" / ".config" / "leaderboard" / "config.json"


def test_tokens_are_kept_per_server():
    config.save_token(server="https://a.example", token="ka")
    config.save_token(server="https://b.example", token="kb")
    assert config.resolve() == config.Target(server="https://b.example", token="kb")
    assert config.resolve(server="https://a.example").token == "ka"
    # Another server never receives a stored token.
    assert config.resolve(server="https://c.example").token is None


def test_flag_beats_environment_beats_file(monkeypatch):
    config.save_token(server="https://a.example", token="ka")
    monkeypatch.setenv(config.ENV_SERVER, "https://b.example")
    assert config.resolve().server == "https://b.example"
    assert config.resolve(server="https://c.example/").server == "https://c.example"
    monkeypatch.setenv(config.ENV_TOKEN, "from-env")
    assert config.resolve().token == "from-env"


def test_default_server_without_any_configuration():
    assert config.resolve() == config.Target(server=config.DEFAULT_SERVER, token=None)


def test_forget_token():
    config.save_token(server="https://a.example", token="ka")
    assert config.forget_token(server="https://a.example") is True
    assert config.forget_token(server="https://a.example") is False
    assert config.resolve().token is None


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("arena.example.org", "http://arena.example.org"),
        ("https://arena.example.org/", "https://arena.example.org"),
        (" http://127.0.0.1:8000 ", "http://127.0.0.1:8000"),
        ("https://host/prefix/", "https://host/prefix"),
    ],
)
def test_server_urls_are_normalised(given, expected):
    assert config.normalise_server(given) == expected


@pytest.mark.parametrize("bad", ["ftp://host", "http://", "https:///path"])
def test_bad_server_urls_are_refused(bad):
    with pytest.raises(CliError) as caught:
        config.normalise_server(bad)
    assert caught.value.code == "bad_server_url"


def test_a_corrupt_file_names_itself(client_home):
    path = client_home / "leaderboard" / "config.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(CliError) as caught:
        config.resolve()
    assert caught.value.code == "config_unreadable" and str(path) in caught.value.message

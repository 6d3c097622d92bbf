"""Where the client keeps its server URL and tokens: a JSON file only its owner can read.

``$XDG_CONFIG_HOME/leaderboard/config.json`` (``~/.config/...`` by default), directory 0700,
file 0600. Tokens are kept per server, so a ``--server`` pointing elsewhere never receives the
token of another site. ``--server`` beats ``LEADERBOARD_SERVER`` beats the stored default;
``LEADERBOARD_TOKEN`` beats the stored token (for CI jobs and notebooks on shared machines).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .errors import CliError

ENV_SERVER = "LEADERBOARD_SERVER"
ENV_TOKEN = "LEADERBOARD_TOKEN"
DEFAULT_SERVER = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Target:
    """The server a command talks to and the token it sends there (None: anonymous)."""

    server: str
    token: str | None


def config_path() -> Path:
    """The config file, following the XDG base directory rules (a relative value is ignored)."""
    base = os.environ.get("XDG_CONFIG_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".config"
    return root / "leaderboard" / "config.json"


def normalise_server(url: str) -> str:
    """``host:8000`` -> ``http://host:8000``; no trailing slash; http and https only."""
    url = url.strip()
    if "://" not in url:
        url = f"http://{url}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CliError(
            f"{url!r} is not a server URL; give one like https://arena.example.org",
            code="bad_server_url",
        )
    return url.rstrip("/")


def load() -> dict:
    path = config_path()
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise CliError(
            f"cannot read {path} ({exc}); fix or delete it, then run `leaderboard-cli login`",
            code="config_unreadable",
        ) from exc
    return data if isinstance(data, dict) else {}


def resolve(*, server: str | None = None) -> Target:
    """The server and token for this run, from the flag, the environment and the file."""
    data = load()
    chosen = normalise_server(
        server or os.environ.get(ENV_SERVER) or data.get("server") or DEFAULT_SERVER
    )
    token = os.environ.get(ENV_TOKEN) or (data.get("tokens") or {}).get(chosen)
    return Target(server=chosen, token=token or None)


def save_token(*, server: str, token: str) -> Path:
    """Store ``token`` for ``server`` and make ``server`` the default; returns the file."""
    data = load()
    data["server"] = server
    data.setdefault("tokens", {})[server] = token
    return _write(data)


def forget_token(*, server: str) -> bool:
    """Remove the stored token of ``server``; return whether there was one."""
    data = load()
    if server not in (data.get("tokens") or {}):
        return False
    del data["tokens"][server]
    _write(data)
    return True


def _write(data: dict) -> Path:
    """Write atomically, readable by the owner only (0600 in a 0700 directory)."""
    path = config_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, indent=2, sort_keys=True)
            out.write("\n")
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path

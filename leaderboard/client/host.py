"""``leaderboard-cli host ...``: an edition's controls for its hosts and teaching assistants.

``status`` shows them; ``rerun`` scores entries again (hosts and assistants); ``pause``,
``resume``, ``freeze`` and ``unfreeze`` are the hosts' (the server decides, as on the site).
"""

from __future__ import annotations

import argparse

from .commands import _edition_path, _logged_in, _named, resolve_edition
from .config import Target
from .console import Console
from .errors import CliError
from .output import table, when
from .transport import Api


def status(args: argparse.Namespace, *, target: Target, console: Console) -> int:
    api, path, edition = _host(args, target)
    state = api.get_json(path)
    console.show(_describe(state, edition=edition), state)
    return 0


def rerun(args: argparse.Namespace, *, target: Target, console: Console) -> int:
    """Queue the given submissions (and with --finals every final entry) to be scored again."""
    if not args.ids and not args.finals:
        raise CliError(
            "name the submissions to re-run (their ids), or pass --finals", code="nothing_chosen"
        )
    api, path, _ = _host(args, target)
    body = api.send_json(
        "POST", f"{path}reruns/", body={"submissions": args.ids, "finals": args.finals}
    )
    lines = [body["message"], *(f"  queued   {pk}" for pk in body["queued"])]
    lines += [
        f"  skipped  {pk} (still queued or running, or not to be re-run)" for pk in body["skipped"]
    ]
    console.show("\n".join(lines), body)
    return 0


def pause(args: argparse.Namespace, *, target: Target, console: Console) -> int:
    return _change(args, target=target, console=console, method="POST", to="pause/")


def resume(args: argparse.Namespace, *, target: Target, console: Console) -> int:
    return _change(args, target=target, console=console, method="DELETE", to="pause/")


def freeze(args: argparse.Namespace, *, target: Target, console: Console) -> int:
    """From --at (ISO 8601; without an offset, the edition's time zone), else from now."""
    body = {"frozen_at": args.at} if args.at else {}
    return _change(args, target=target, console=console, method="POST", to="freeze/", body=body)


def unfreeze(args: argparse.Namespace, *, target: Target, console: Console) -> int:
    return _change(args, target=target, console=console, method="DELETE", to="freeze/")


def _change(
    args: argparse.Namespace,
    *,
    target: Target,
    console: Console,
    method: str,
    to: str,
    body: dict | None = None,
) -> int:
    api, path, edition = _host(args, target)
    state = api.send_json(method, path + to, body=body)
    console.show(f"{state['message']}\n\n{_describe(state, edition=edition)}", state)
    return 0


def _host(args: argparse.Namespace, target: Target) -> tuple[Api, str, dict]:
    api = _logged_in(target)
    edition = resolve_edition(api, args.edition)
    return api, _edition_path(edition) + "host/", edition


def _describe(state: dict, *, edition: dict) -> str:
    paused = (
        f"paused since {when(state['submissions_paused_at'])}: uploads get "
        f"\u201c{state['pause_message']}\u201d"
        if state["submissions_paused"]
        else "accepted"
    )
    if state["board_frozen_now"]:
        board = f"frozen at {when(state['board_frozen_at'])} until the close"
    elif state["board_frozen_at"]:
        board = f"live; freezes at {when(state['board_frozen_at'])}"
    else:
        board = "live"
    rows = [
        ("edition", f"{_named(edition)} ({state['challenge']}/{state['edition']})"),
        ("your role", {"host": "host", "ta": "teaching assistant"}.get(state["role"], "-")),
        ("closes", when(state["closes_at"])),
        ("submissions", paused),
        ("public board", board),
        ("re-runs", f"{state['reruns_pending']} queued or running"),
    ]
    width = max(len(k) for k, _ in rows)
    text = "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)
    failures = state.get("rerun_failures") or []
    if failures:
        lines = [
            (
                when(f["failed_at"]),
                f["team"] or "baseline",
                f["method_name"],
                f["error_code"],
                f["submission"],
            )
            for f in failures
        ]
        text += "\n\nre-runs that failed (each entry keeps the score it had):\n" + table(
            ["failed", "team", "method", "error", "submission"], lines
        )
    return text

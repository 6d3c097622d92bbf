"""The commands: each takes the parsed arguments, the target server and the console, and
returns the exit status (0 done, 3 the followed submission failed, 1 a checked model that would
not be scored); failures raise CliError."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from urllib.parse import quote

from tqdm import tqdm

from . import config
from .checks import describe_check, follow_check
from .config import Target
from .console import Console
from .errors import CliError
from .follow import follow
from .output import error, method, status_line, table, when
from .transport import Api

SUBMISSION_FAILED = 3


def login(args: argparse.Namespace, *, target: Target, console: Console) -> int:
    """Check a token against the server, then store it (and the server) in the config file."""
    token = _read_token(args.token, server=target.server)
    me = Api(server=target.server, token=token).get_json("/api/me/")
    path = config.save_token(server=target.server, token=token)
    expires = f"; the token expires on {when(me['token_expires_at'])}"
    console.show(
        f"logged in to {target.server} as {me['username']}; token saved in {path}"
        + (expires if me.get("token_expires_at") else ""),
        {"server": target.server, "username": me["username"], "config": str(path)},
    )
    return 0


def logout(args: argparse.Namespace, *, target: Target, console: Console) -> int:
    """Forget the stored token (revoking it is done on the site's token page)."""
    forgot = config.forget_token(server=target.server)
    text = f"forgot the token for {target.server}" if forgot else "no token was stored"
    console.show(f"{text}; to revoke it, visit {target.server}/me/tokens/", {"forgot": forgot})
    return 0


def challenges(args: argparse.Namespace, *, target: Target, console: Console) -> int:
    _, found = Api(server=target.server, token=target.token).get_all("/api/challenges/")
    rows = [
        (f"{e['challenge']}/{e['slug']}", _named(e), e["state"], when(e["closes_at"]))
        for c in found
        for e in c["editions"]
    ]
    console.show(table(["edition", "name", "state", "closes"], rows), found)
    return 0


def submit(args: argparse.Namespace, *, target: Target, console: Console) -> int:
    """Upload with a progress bar; with --wait, follow the submission until it is finished."""
    api = _logged_in(target)
    path = _model_file(args.file)
    edition = resolve_edition(api, args.edition)
    fields = {
        "method_name": args.method or path.stem,
        "arch": args.arch or "",
        "description": args.description or "",
    }
    created = _upload(
        api,
        path=path,
        edition=edition,
        to="submissions/",
        fields=fields,
        args=args,
        console=console,
    )
    console.say(f"submitted {created['id']} to {_named(edition)}: {status_line(created)}")
    console.say(f"  {created['url']}")
    if created.get("model_io"):  # ONNX: how the scorer will feed and read it, from the header
        console.say(f"  will be run as: {created['model_io']}")
    if not args.wait:
        console.show(f"follow it with: leaderboard-cli status {created['id']} --wait", created)
        return 0
    final = follow(api=api, submission_id=created["id"], console=console, timeout_s=args.timeout)
    console.show(_describe(final), final)
    return 0 if final["status"] == "scored" else SUBMISSION_FAILED


def check(args: argparse.Namespace, *, target: Target, console: Console) -> int:
    """Check a model on the edition's public sample images, free: 0 if it would be scored."""
    api = _logged_in(target)
    path = _model_file(args.file)
    edition = resolve_edition(api, args.edition)
    fields = {"arch": args.arch or ""}
    created = _upload(
        api, path=path, edition=edition, to="checks/", fields=fields, args=args, console=console
    )
    console.say(f"checking {created['original_name']} on {_named(edition)}: {created['url']}")
    final = follow_check(api=api, check_id=created["id"], console=console, timeout_s=args.timeout)
    console.show(describe_check(final), final)
    return 0 if final["ok"] else 1


def _model_file(file: str) -> Path:
    path = Path(file)
    if not path.is_file():
        raise CliError(f"{path}: no such file", code="file_not_found")
    return path


def _upload(
    api: Api,
    *,
    path: Path,
    edition: dict,
    to: str,
    fields: dict[str, str],
    args: argparse.Namespace,
    console: Console,
) -> dict:
    """POST the file under the edition's ``to`` with a progress bar, within its size cap."""
    size, cap_mb = path.stat().st_size, edition["max_upload_mb"]
    if size > cap_mb * 2**20:
        raise CliError(
            f"{path.name} is {size / 2**20:.1f} MB; {_named(edition)} accepts files of at most "
            f"{cap_mb} MB",
            code="file_too_large",
        )
    with tqdm(
        total=size,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc=f"uploading {path.name}",
        file=console.err,
        disable=args.quiet,
        dynamic_ncols=True,
    ) as bar:

        def progress(sent: int, total: int) -> None:
            if bar.total != total:
                bar.total = total
            bar.update(sent - bar.n)

        return api.upload(_edition_path(edition) + to, fields=fields, file=path, progress=progress)


def status(args: argparse.Namespace, *, target: Target, console: Console) -> int:
    api = Api(server=target.server, token=target.token)
    if args.wait:
        submission = follow(api=api, submission_id=args.id, console=console, timeout_s=args.timeout)
        console.show(_describe(submission), submission)
        return 0 if submission["status"] == "scored" else SUBMISSION_FAILED
    submission = api.get_json(f"/api/submissions/{quote(args.id)}/")
    console.show(_describe(submission), submission)
    return 0


def submissions(args: argparse.Namespace, *, target: Target, console: Console) -> int:
    """The user's own submissions, newest first (the first page; --all for every one)."""
    api = _logged_in(target)
    if args.all:
        _, rows = api.get_all("/api/me/submissions/?page_size=500")
    else:
        rows = api.get_json("/api/me/submissions/")["results"]
    lines = [
        (
            when(s["created_at"]),
            f"{s['challenge']}/{s['edition']}",
            method(s),
            s["status"],
            error((s.get("errors") or {}).get("top1_error")),
            error((s.get("errors") or {}).get("top5_error")),
            s["id"],
        )
        for s in rows
    ]
    headers = ["submitted", "edition", "method", "status", "top-1 err", "top-5 err", "id"]
    console.show(table(headers, lines, right={4, 5}), rows)
    return 0


def leaderboard(args: argparse.Namespace, *, target: Target, console: Console) -> int:
    """The whole board (every page), as a table, or the server's CSV with --csv."""
    api = Api(server=target.server, token=target.token)
    edition = resolve_edition(api, args.edition)
    path = _edition_path(edition) + "leaderboard/"
    board_param = {"board": "public"} if args.public else {}
    if args.csv:
        params = {"format": "csv", **board_param}
        console.out.write(api.get_text(path, params=params, accept="text/csv"))
        console.out.flush()
        return 0
    board, rows = api.get_all(f"{path}?page_size=500{'&board=public' if args.public else ''}")
    metric, other = board["metric"], "top1" if board["metric"] == "top5" else "top5"
    lines = [
        (
            "base" if r["is_baseline"] else r["position"],
            "baseline" if r["is_baseline"] else r["team"],
            method(r),
            error(r[f"{metric}_error"]),
            error(r[f"{other}_error"]),
            r["images"],
            r["entries"],
            when(r["submitted_at"]),
        )
        for r in rows
    ]
    title = (
        f"{_named(edition)}: best entry per team by {_metric(metric)} error, on the "
        f"{board['phase']} part of the hidden test set"
    )
    headers = ["#", "team", "method", f"{_metric(metric)} err", f"{_metric(other)} err"]
    text = table([*headers, "images", "entries", "submitted"], lines, right={0, 3, 4, 5, 6})
    console.show(
        f"{title}\n\n{text}" if lines else f"{title}\n\nno scored entries yet",
        {**board, "results": rows, "next": None},
    )
    return 0


def history(args: argparse.Namespace, *, target: Target, console: Console) -> int:
    """Year by year: each edition's winner and runner-up, the best baseline of the year's
    papers and the best result reported elsewhere, as on the challenge page."""
    api = Api(server=target.server, token=target.token)
    found = api.get_json(f"/api/challenges/{quote(args.challenge)}/history/")
    metric = found["metric"]

    def entry(value: dict | None) -> tuple[str, str]:
        if not value:
            return "-", "-"
        who = f"{value['team']}: " if value.get("team") else ""
        return who + (value.get("method_name") or value.get("method") or ""), error(
            value.get(f"{metric}_error")
        )

    lines = []
    for year in found["years"]:
        extra = (*entry(year["best_baseline"]), *entry((year["reported"] or [None])[0]))
        for summary in year["editions"] or [None]:
            if summary is None:
                lines.append((year["year"], "-", "-", "-", "-", "-", "-", "-", *extra))
            else:
                lines.append(
                    (
                        year["year"],
                        summary["edition"],
                        summary["teams"],
                        summary["entries"],
                        *entry(summary["winner"]),
                        *entry(summary["runner_up"]),
                        *extra,
                    )
                )
            extra = ("", "", "", "")  # a year's baseline and reported result: on its first line
    m = f"{_metric(metric)} err"
    headers = ["year", "edition", "teams", "entries", "winner", m, "runner-up", m]
    headers += ["best baseline (paper year)", m, "reported", m]
    title = (
        f"{found['title']}: {_metric(metric)} error per year (private part of the test set once "
        "an edition has closed, public part while it runs)"
    )
    text = table(headers, lines, right={2, 3, 5, 7, 9, 11})
    console.show(f"{title}\n\n{text}", found)
    return 0


def resolve_edition(api: Api, ref: str) -> dict:
    """``CHALLENGE/EDITION``, an edition slug that only one challenge uses, or a challenge's
    slug alone: its open edition (the newest if several are, else the newest of all)."""
    if "/" in ref:
        challenge, _, slug = ref.partition("/")
        try:
            return api.get_json(f"/api/challenges/{quote(challenge)}/editions/{quote(slug)}/")
        except CliError as exc:
            if exc.code != "not_found":
                raise
            raise CliError(
                f"no edition {ref!r} on {api.server}; `leaderboard-cli challenges` lists them",
                code="not_found",
                status=exc.status,
            ) from exc
    _, found = api.get_all("/api/challenges/")
    editions = [e for c in found for e in c["editions"]]
    matches = [e for e in editions if e["slug"] == ref]
    if len(matches) == 1:
        return matches[0]
    own = [e for c in found if c["slug"] == ref for e in c["editions"]]
    if not matches and own:
        return max(own, key=lambda e: (e["state"] == "open", e["year"], e["opens_at"]))
    names = ", ".join(f"{e['challenge']}/{e['slug']}" for e in (matches or editions)) or "none"
    if not matches:
        raise CliError(f"no edition {ref!r} on {api.server}; editions: {names}", code="not_found")
    raise CliError(
        f"several challenges have an edition {ref!r}; give CHALLENGE/EDITION: {names}",
        code="ambiguous_edition",
    )


def _describe(s: dict) -> str:
    rows = [
        ("submission", s["id"]),
        ("edition", f"{s['challenge']}/{s['edition']}"),
        ("method", method(s) + (f" ({s['format']})" if s.get("format") else "")),
        ("submitted", when(s["created_at"])),
        ("status", status_line(s)),
    ]
    for part in (s.get("result") or {}).get("parts", []):
        rows.append(
            (
                f"{part['part']} part",
                f"top-1 error {error(part['top1_error'])}, top-5 error "
                f"{error(part['top5_error'])} ({part['n_images']} images)",
            )
        )
    if isinstance(s.get("robustness"), dict):
        rows.append(("robustness", _robustness(s["robustness"])))
    rows.append(("page", s["url"]))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


def _robustness(run: dict) -> str:
    """The robustness track's run of the score (its errors are in the parts above once in)."""
    waiting = "the clean score above is final; the copies' errors follow on the page"
    return {
        "pending": f"waiting for a worker ({waiting})",
        "running": f"being measured ({waiting})",
        "done": "measured (see the page for each transform)",
    }.get(
        run.get("status"),
        f"not measured ({run.get('error_code') or 'failed'}): {run.get('error_message') or ''}"
        " The clean score above is not affected.",
    )


def _named(edition: dict) -> str:
    """As the site names the edition: its title, else "Fashion-MNIST 2026" (older servers send
    only ``name``)."""
    return edition.get("display_name") or edition["name"]


def _edition_path(edition: dict) -> str:
    return f"/api/challenges/{quote(edition['challenge'])}/editions/{quote(edition['slug'])}/"


def _metric(metric: str) -> str:
    return {"top5": "top-5", "top1": "top-1"}.get(metric, metric)


def _logged_in(target: Target) -> Api:
    if not target.token:
        raise CliError(
            f"not logged in to {target.server}: run `leaderboard-cli login`",
            code="not_authenticated",
        )
    return Api(server=target.server, token=target.token)


def _read_token(given: str | None, *, server: str) -> str:
    """--token KEY, --token - (one line from stdin), or a hidden prompt on a terminal."""
    if given == "-":
        token = sys.stdin.readline().strip()
    elif given:
        token = given.strip()
    elif sys.stdin.isatty():
        print(f"Create a token at {server}/me/tokens/ and paste it here.", file=sys.stderr)
        token = getpass.getpass("Token: ").strip()
    else:
        raise CliError(
            "no token given: pass --token KEY, or --token - to read it from stdin",
            code="token_required",
        )
    if not token:
        raise CliError("the token is empty", code="token_required")
    return token

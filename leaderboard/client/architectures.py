"""``leaderboard-cli architectures``: the names a safetensors file can give with ``--arch``."""

from __future__ import annotations

import argparse

from .config import Target
from .console import Console
from .errors import CliError
from .output import table
from .transport import Api


def list_architectures(args: argparse.Namespace, *, target: Target, console: Console) -> int:
    """Every architecture the server builds, by family then name (``--family`` keeps one)."""
    found = Api(server=target.server, token=target.token).get_json("/api/architectures/")
    rows = [r for r in found["results"] if args.family in (None, r["family"])]
    if not rows:
        families = ", ".join(sorted({r["family"] for r in found["results"]})) or "none"
        raise CliError(
            f"no architecture of the family {args.family!r} on {target.server}; "
            f"families: {families}",
            code="not_found",
        )
    lines = sorted((r["family"], r["name"]) for r in rows)
    text = table(["family", "architecture"], lines)
    hint = (
        "\n\nA safetensors file names one of these: leaderboard-cli submit model.safetensors "
        "--arch NAME; its weights must load strictly into the network built for the challenge."
    )
    console.show(text + hint, {"count": len(rows), "results": rows})
    return 0

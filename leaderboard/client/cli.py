"""Argument parsing and the one place errors are printed: ``error: <message> [<code>]``.

Exit status: 0 done; 1 the command failed (the message says why), or the checked model would
not be scored; 2 bad arguments; 3 the followed submission failed scoring; 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Callable, Sequence

from . import config
from .console import Console
from .errors import CliError

EPILOG = """\
The server is --server URL, else $LEADERBOARD_SERVER, else the one you logged in to last.
Tokens are created on the site's page /me/tokens/ and stored by `login` in
$XDG_CONFIG_HOME/leaderboard/config.json (~/.config/... by default), readable by you only;
$LEADERBOARD_TOKEN overrides the stored token.

examples, against `make run` (its site http://127.0.0.1:8000, its challenge "demo"; the
challenge page's starting kit has example.onnx, once the baselines are in):
  leaderboard-cli login --server http://127.0.0.1:8000
  curl -o example.onnx http://127.0.0.1:8000/c/demo/kit/example.onnx
  leaderboard-cli check example.onnx --edition demo
  leaderboard-cli submit example.onnx --edition demo --method "LeNet-5" --wait
  leaderboard-cli status <id printed by submit> --wait
  leaderboard-cli leaderboard demo --csv > board.csv
  leaderboard-cli history demo
  leaderboard-cli host status demo                  (hosts and teaching assistants)
  leaderboard-cli host rerun --finals demo
  leaderboard-cli host freeze demo --at 2026-12-20T12:00
"""


EDITION_HELP = "CHALLENGE/EDITION (e.g. demo/2026), or CHALLENGE alone for its open edition"


def _add_common(parser: argparse.ArgumentParser, *, below: bool) -> None:
    """Options valid before and after the command; after it they only override what is given."""
    default = {"default": argparse.SUPPRESS} if below else {}
    parser.add_argument(
        "--server", metavar="URL", help="the site, e.g. https://arena.example.org", **default
    )
    parser.add_argument(
        "--json", action="store_true", help="print the API's JSON on stdout", **default
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar", **default)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="leaderboard-cli",
        description="Submit models to an image-classification challenge and follow them.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_common(parser, below=False)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        subparser = sub.add_parser(name, help=help_text, description=help_text)
        _add_common(subparser, below=True)
        return subparser

    p = command("login", "check an API token and store it for this server")
    p.add_argument("--token", help="the token; '-' reads it from stdin (default: prompt)")
    p.set_defaults(run="commands:login")

    p = command("logout", "forget the stored token for this server")
    p.set_defaults(run="commands:logout")

    p = command("challenges", "list the challenges and their editions")
    p.set_defaults(run="commands:challenges")

    p = command("architectures", "list the architecture names a safetensors file can give")
    p.add_argument("--family", help="only this family: torchvision, timm or baselines")
    p.set_defaults(run="architectures:list_architectures")

    p = command("submit", "upload a model file to an edition")
    p.add_argument("file", help="ONNX, safetensors (with --arch), .pt2 or TorchScript file")
    p.add_argument("--edition", required=True, metavar="SLUG", help=EDITION_HELP)
    p.add_argument("--arch", help="architecture name, needed for safetensors (e.g. resnet18)")
    p.add_argument("--method", help="method name shown on the leaderboard (default: file name)")
    p.add_argument("--description", help="a longer description of the method")
    p.add_argument("--wait", action="store_true", help="follow it until scored or failed")
    p.add_argument("--timeout", type=float, metavar="S", help="give up waiting after S seconds")
    p.set_defaults(run="commands:submit")

    p = command("check", "check a model on the public samples, free: exit 0 if it would score")
    p.add_argument("file", help="ONNX, safetensors (with --arch), .pt2 or TorchScript file")
    p.add_argument("--edition", required=True, metavar="SLUG", help=EDITION_HELP)
    p.add_argument("--arch", help="architecture name, needed for safetensors (e.g. resnet18)")
    p.add_argument("--timeout", type=float, metavar="S", help="give up waiting after S seconds")
    p.set_defaults(run="commands:check")

    p = command("status", "show a submission's status and result")
    p.add_argument("id", help="the submission's id (printed by submit)")
    p.add_argument("--wait", action="store_true", help="follow it until scored or failed")
    p.add_argument("--timeout", type=float, metavar="S", help="give up waiting after S seconds")
    p.set_defaults(run="commands:status")

    p = command("submissions", "list your submissions, newest first")
    p.add_argument("--all", action="store_true", help="every page, not only the latest 50")
    p.set_defaults(run="commands:submissions")

    p = command("leaderboard", "show an edition's leaderboard")
    p.add_argument("edition", metavar="SLUG", help=EDITION_HELP)
    p.add_argument("--csv", action="store_true", help="the whole board as CSV")
    p.add_argument(
        "--public",
        action="store_true",
        help="after the close: the public part's board instead of the final standings",
    )
    p.set_defaults(run="commands:leaderboard")

    p = command("history", "a challenge's year-by-year winners and best baselines")
    p.add_argument("challenge", metavar="CHALLENGE", help="the challenge's slug, e.g. demo")
    p.set_defaults(run="commands:history")

    _add_host(command("host", "an edition's controls, for its hosts and teaching assistants"))
    return parser


def _add_host(parser: argparse.ArgumentParser) -> None:
    """``host status|rerun|pause|resume|freeze|unfreeze EDITION``: the host page's controls."""
    sub = parser.add_subparsers(dest="host_command", required=True, metavar="ACTION")

    def action(name: str, help_text: str, run: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        _add_common(p, below=True)
        p.add_argument("edition", metavar="EDITION", help=EDITION_HELP)
        p.set_defaults(run=f"host:{run}")
        return p

    action("status", "pause, freeze, pending and failed re-runs, as they stand", "status")
    p = action(
        "rerun",
        "score entries again (hosts and teaching assistants); costs the teams nothing",
        "rerun",
    )
    p.add_argument("ids", nargs="*", metavar="ID", help="submissions to re-run")
    p.add_argument(
        "--finals",
        action="store_true",
        help="also every final entry (each team's finals, or its best) and the baselines",
    )
    action("pause", "refuse uploads until resumed (hosts); the closing time stays", "pause")
    action("resume", "accept uploads again (hosts)", "resume")
    p = action("freeze", "freeze the public board until the close (hosts)", "freeze")
    p.add_argument(
        "--at",
        metavar="TIME",
        help="from when: 2026-12-07T14:30 in the edition's time zone, or with an offset "
        "(default: now)",
    )
    action("unfreeze", "lift the freeze: the public board is live again (hosts)", "unfreeze")


def _command(spec: str) -> Callable[..., int]:
    """The ``module:function`` of this package that runs a command, imported only then: the
    parser, ``--help`` and usage errors start without requests or tqdm."""
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(f"{__package__}.{module}"), name)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console(json_mode=args.json, quiet=args.quiet)
    try:
        target = config.resolve(server=args.server)
        return _command(args.run)(args, target=target, console=console)
    except CliError as exc:
        print(f"error: {exc.message} [{exc.code}]", file=console.err, flush=True)
        return 1
    except KeyboardInterrupt:
        hint = ""
        if getattr(args, "wait", False):
            which = getattr(args, "id", "ID")
            hint = f"; the submission goes on: `leaderboard-cli status {which} --wait` follows it"
        print(f"interrupted{hint}", file=console.err, flush=True)
        return 130
    except Exception as exc:  # a bug in the client: say so, with the details on request
        if os.environ.get("LEADERBOARD_DEBUG"):
            traceback.print_exc()
        kind = type(exc).__name__
        detail = str(exc).strip()
        print(
            f"error: unexpected {kind} in leaderboard-cli{': ' + detail if detail else ''} "
            "(set LEADERBOARD_DEBUG=1 for the traceback) [client_error]",
            file=console.err,
            flush=True,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())

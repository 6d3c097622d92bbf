"""``make run``: the whole platform on one machine, from an empty ``var/``.

Migrates, imports the demo challenge, creates the demo account, then runs the web server and
ONE Celery worker (the scoring queue, the default queue and the sweeper's beat) as children,
prints where to go, and stops every child on Ctrl-C or SIGTERM. With no environment variables
it is SQLite and Celery's filesystem queue under ``./var``; ``DATABASE_URL`` and
``CELERY_BROKER_URL`` switch to PostgreSQL and Redis, as everywhere else.
"""

from __future__ import annotations

import argparse
import functools
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from types import FrameType

from leaderboard import processes
from leaderboard.processes import Child, emit

DEFAULT_USERNAME = "demo"
DEFAULT_PASSWORD = "demo-password"
# Run after the demo import when some app provides it; it queues the baseline networks whose
# weights ship with the code (no training: `seed_baselines --retrain` trains).
BASELINES_COMMAND = "seed_baselines"
WEB_START_TIMEOUT_S = 60.0
# The worker's last start-up line ("devserver@host ready."): the banner comes after Celery's.
WORKER_READY = " ready."
WORKER_READY_TIMEOUT_S = 180.0
WEB_GRACE_S = 5.0
# Warm shutdown lets a running scoring task finish; past this it is killed, and the sweeper
# gives the submission back to the queue once its deadline passes.
WORKER_GRACE_S = 15.0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leaderboard.settings.local")
    os.environ.setdefault("SITE_URL", f"http://{args.host}:{args.port}")  # links in mail
    import django

    django.setup()
    _prepare(username=args.username, password=args.password)
    stopping, worker_ready = threading.Event(), threading.Event()
    _on_signals(stopping)
    children: list[Child] = []
    banner = functools.partial(
        _banner, host=args.host, port=args.port, username=args.username, password=args.password
    )

    def finished(name: str, status: int) -> None:
        if name == "baselines" and status == 0:  # again, as their lines pushed it away
            banner(note="The baselines are queued: the worker scores them one by one now.")

    try:
        children.append(_start_web(host=args.host, port=args.port))
        children.append(_start_worker(ready=worker_ready))
        if not args.no_baselines and _has_command(BASELINES_COMMAND):
            children.append(_start_command(BASELINES_COMMAND, label="baselines"))
        if not _wait_for_port(host=args.host, port=args.port, web=children[0], stop=stopping):
            return 0 if stopping.is_set() else 1
        if not _wait_for_worker(ready=worker_ready, worker=children[1], stop=stopping):
            return 0 if stopping.is_set() else 1
        banner()  # last, below Celery's start-up banner
        return _supervise(children=children, stopping=stopping, finished=finished)
    finally:
        _stop_all(children)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m leaderboard.devserver", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--username", default=DEFAULT_USERNAME, help="demo account")
    parser.add_argument("--password", default=DEFAULT_PASSWORD, help="its password if created")
    parser.add_argument(
        "--no-baselines",
        action="store_true",
        help=f"do not run `{BASELINES_COMMAND}` even where it exists",
    )
    return parser


def _prepare(*, username: str, password: str) -> None:
    """Database schema, demo challenge and account: each step is a no-op when already done."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    emit(f"database: {_describe_database(settings.DATABASES['default'])}")
    emit(f"queue:    {_describe_broker(settings.CELERY_BROKER_URL)}")
    call_command("migrate", interactive=False, verbosity=1)
    call_command("create_demo", username=username, password=password)
    connections.close_all()  # the children open their own


def _describe_database(database: dict) -> str:
    if database["ENGINE"].endswith("sqlite3"):
        return f"SQLite at {database['NAME']}"
    host = database.get("HOST") or "local socket"
    return f"{database['ENGINE'].rsplit('.', 1)[-1]} {database['NAME']} on {host}"


def _describe_broker(url: str) -> str:
    from django.conf import settings
    from kombu.utils.url import maybe_sanitize_url

    if url.startswith("filesystem://"):
        return f"Celery filesystem transport under {settings.VAR_DIR / 'celery'}"
    return str(maybe_sanitize_url(url))


def _has_command(name: str) -> bool:
    """Whether an installed app provides the management command (another package may not yet)."""
    from django.core.management import get_commands

    return name in get_commands()


def _child_env() -> dict[str, str]:
    """Ours, with the settings this process runs on named: the worker refuses to start without."""
    from django.conf import settings

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE,
        "PYTHONUNBUFFERED": "1",
    }


def _echo(label: str):
    return lambda line: emit(f"{label:>9} | {line}")


def _start_web(*, host: str, port: int) -> Child:
    argv = [sys.executable, "manage.py", "runserver", f"{host}:{port}", "--noreload"]
    return processes.spawn(name="web", argv=argv, env=_child_env(), echo=_echo("web"))


def _start_worker(*, ready: threading.Event) -> Child:
    from django.conf import settings

    argv = processes.celery_worker_argv(
        queues=[settings.SCORING_QUEUE, settings.CELERY_TASK_DEFAULT_QUEUE],
        name="devserver@%h",
        beat=True,
    )
    echo = _echo("worker")

    def echo_and_watch(line: str) -> None:
        echo(line)
        if WORKER_READY in line:
            ready.set()

    return processes.spawn(name="worker", argv=argv, env=_child_env(), echo=echo_and_watch)


def _start_command(command: str, *, label: str) -> Child:
    argv = [sys.executable, "manage.py", command]
    return processes.spawn(name=label, argv=argv, env=_child_env(), echo=_echo(label))


def _on_signals(stopping: threading.Event) -> None:
    def handle(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)


def _wait_for_port(*, host: str, port: int, web: Child, stop: threading.Event) -> bool:
    """True once the web server accepts connections; False if it died or we are stopping."""
    deadline = time.monotonic() + WEB_START_TIMEOUT_S
    while time.monotonic() < deadline and not stop.is_set():
        if web.exited():
            emit("devserver: the web server exited while starting (is the port in use?)")
            return False
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            stop.wait(0.2)
    if not stop.is_set():
        emit(f"devserver: the web server did not listen on {host}:{port} in time")
    return False


def _wait_for_worker(*, ready: threading.Event, worker: Child, stop: threading.Event) -> bool:
    """True once the worker said it is ready (or after a while: the site works without it);
    False if it died or we are stopping."""
    deadline = time.monotonic() + WORKER_READY_TIMEOUT_S
    while not ready.is_set() and not stop.is_set():
        if worker.exited():
            emit("devserver: the worker exited while starting")
            return False
        if time.monotonic() > deadline:
            emit("devserver: the worker has not said it is ready yet; the site is up")
            return True
        ready.wait(0.2)
    return not stop.is_set()


def _banner(*, host: str, port: int, username: str, password: str, note: str = "") -> None:
    from django.utils import timezone

    from leaderboard.management.commands.create_demo import SLUG
    from leaderboard.models import Edition

    base = f"http://{host}:{port}"
    edition = Edition.objects.filter(challenge__slug=SLUG, year=timezone.now().year).first()
    lines = [
        "",
        " ".join(filter(None, ["The platform is running.", note])),
        f"  site:        {base}/",
    ]
    if edition is not None:
        lines.append(f"  leaderboard: {base}{edition.get_absolute_url()}")
    lines += [
        f"  log in as:   {username} / {password} (the password set when the account was made)",
        f"  mail:        {_describe_mail()}",
        "Ctrl-C stops the web server and the worker.",
        "",
    ]
    for line in lines:
        emit(line)


def _describe_mail() -> str:
    """Where the site's e-mail goes (EMAIL_URL; files under var/mail by default)."""
    from django.conf import settings

    backend = settings.EMAIL_BACKEND.rsplit(".", 2)[-2]
    if backend == "filebased":
        return f"written to files in {settings.EMAIL_FILE_PATH} (set EMAIL_URL to send it)"
    if backend == "console":
        return "printed by the worker below (set EMAIL_URL to send it)"
    if backend == "smtp":
        return f"sent by SMTP through {settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
    return f"handled by {settings.EMAIL_BACKEND}"


def _supervise(
    *,
    children: list[Child],
    stopping: threading.Event,
    finished: Callable[[str, int], None] = lambda name, status: None,
) -> int:
    """Wait for a stop signal; a long-running child that exits on its own stops everything.
    ``finished(name, status)`` is called when a one-shot child (the baselines) is done."""
    one_shot = {child.name for child in children if child.name not in ("web", "worker")}
    reported: set[str] = set()
    while not stopping.wait(0.5):
        for child in children:
            if child.name in reported or not child.exited():
                continue
            status = processes.stop(child, grace_s=0)
            reported.add(child.name)
            if child.name in one_shot:
                emit(f"devserver: {child.name} finished (exit status {status})")
                finished(child.name, status)
                continue
            emit(f"devserver: {child.name} exited (status {status}); stopping the rest")
            return 1
    emit("devserver: stopping")
    return 0


def _stop_all(children: list[Child]) -> None:
    for child in reversed(children):
        grace = WORKER_GRACE_S if child.name == "worker" else WEB_GRACE_S
        processes.stop(child, grace_s=grace)
    if children:
        emit("devserver: all stopped")


if __name__ == "__main__":
    sys.exit(main())

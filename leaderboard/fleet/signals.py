"""Celery signal handlers that keep the heartbeat rows current; connected when imported.

The worker's main process writes its row when ready and then every ``FLEET_HEARTBEAT_S``
seconds from a daemon thread; the pool process marks the row busy at a task's start and idle
at its end. A failing write is logged and dropped: a heartbeat must never break scoring.
Each pool process also keeps a warm sandbox from its start to its end.
"""

from __future__ import annotations

import logging
import os
import socket
import threading

from celery import signals

logger = logging.getLogger(__name__)
_stop = threading.Event()
# Tasks whose first argument is a submission id, and the position of a shard index if any.
_SUBMISSION_TASKS = {
    "leaderboard.tasks.score_submission": None,
    "leaderboard.tasks.score_robustness": None,
    "leaderboard.tasks.score_shard": 2,
    "leaderboard.tasks.merge_shards": None,
}


@signals.worker_ready.connect
def _on_ready(sender, **kwargs) -> None:
    """Write the row, then start the timer thread (in the main process only)."""
    from django.db import connection

    name = sender.hostname
    queues = sorted(sender.app.amqp.queues.consume_from)  # the -Q list
    _safely(_online, name=name, queues=queues)
    connection.close()  # pool processes forked later must not share this connection
    _stop.clear()
    threading.Thread(target=_beat_forever, args=(name,), name="heartbeat", daemon=True).start()


@signals.worker_shutting_down.connect
def _on_shutdown(sender, **kwargs) -> None:
    _stop.set()
    from .heartbeat import heartbeat_offline

    _safely(heartbeat_offline, name=str(sender))


@signals.worker_process_init.connect
def _on_process_init(**kwargs) -> None:
    """A pool process keeps a warm sandbox for its runs (``leaderboard.evaluation.warm``)."""
    from leaderboard.evaluation.warm import start_warm_pool

    try:
        start_warm_pool()
    except Exception:  # a bad setting must not stop the worker: its runs go cold
        logger.exception("warm sandboxes not started")


@signals.worker_process_shutdown.connect
def _on_process_shutdown(**kwargs) -> None:
    from leaderboard.evaluation.warm import stop_warm_pool

    stop_warm_pool()


@signals.task_prerun.connect
def _on_task_start(sender=None, args=None, **kwargs) -> None:
    task = getattr(sender, "name", "")
    if task not in _SUBMISSION_TASKS:
        return
    from .heartbeat import heartbeat_busy

    args = list(args or [])
    position = _SUBMISSION_TASKS[task]
    _safely(
        heartbeat_busy,
        name=sender.request.hostname or "",
        task=task.rpartition(".")[2],
        submission_id=args[0] if args else None,
        shard_index=args[position] if position is not None and len(args) > position else None,
    )


@signals.task_postrun.connect
def _on_task_end(sender=None, **kwargs) -> None:
    if getattr(sender, "name", "") not in _SUBMISSION_TASKS:
        return
    from .heartbeat import heartbeat_idle

    _safely(heartbeat_idle, name=sender.request.hostname or "")


def _online(*, name: str, queues: list[str]) -> None:
    from django.conf import settings

    from .device import device_facts
    from .heartbeat import heartbeat_online

    heartbeat_online(
        name=name,
        host=socket.gethostname(),
        pid=os.getpid(),
        queues=queues,
        device=device_facts(device=settings.SCORING_DEVICE),
    )


def _beat_forever(name: str) -> None:
    from django.conf import settings
    from django.db import connection

    from .device import device_facts
    from .heartbeat import heartbeat_beat

    while not _stop.wait(settings.FLEET_HEARTBEAT_S):
        facts = device_facts(device=settings.SCORING_DEVICE)
        _safely(heartbeat_beat, name=name, memory_used_mb=facts.memory_used_mb)
        connection.close()  # this thread's own connection; a fresh one at the next beat


def _safely(write, **kwargs) -> None:
    try:
        write(**kwargs)
    except Exception:
        logger.exception("heartbeat not written")

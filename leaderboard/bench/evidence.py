"""What limits the site under load, from the operating system and the database.

``CpuSampler`` reads every process's own CPU seconds (user and system) from ``/proc`` twice a
second from a thread of its own, and sums what each process used while it ran by role: the
benchmark's gunicorn and its Celery worker (every process descended from them, the worker's
sandboxes included), the backends of the benchmark's database, PostgreSQL's other processes
(other databases, its own background work), Redis, Locust, any process at a lower priority
(``niced``: background jobs that only take what is left), everything else (on a shared box:
other people's work). Sampling, not two readings and a difference, because a sandbox lives a
second or two and is reaped by a process outside the worker (its time would vanish from a
parent's children's count); what a process used after its last sample, or a process that
lived less than the interval, is missed and shows as ``unseen`` (the box's busy time from
``/proc/stat`` less the rest).

``WaitSampler`` samples ``pg_stat_activity`` a few times a second from a thread of its own:
how many of the database's client backends were running (no wait event: on CPU), waiting on a
lock (``Lock``, ``LWLock``), on I/O, or on their client, and how many sat idle inside a
transaction. Its averages say whether the database, its locks, or neither is the bottleneck.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from django.db import connection

from .load import box_cpu_s

ROLES = ("gunicorn", "worker", "postgres", "postgres, other", "redis", "locust", "niced", "other")


class CpuSampler:
    """CPU seconds by role between ``__enter__`` and ``__exit__``, sampled every
    ``interval_s``. ``trees``: role -> the pid whose descendants have that role (gunicorn's
    master, the worker); ``database``: whose PostgreSQL backends count as ``postgres``."""

    def __init__(self, *, trees: Mapping[str, int], database: str, interval_s: float = 0.5) -> None:
        self.interval_s = interval_s
        self._trees = {pid: role for role, pid in trees.items()}
        self._database = database
        self._tick = os.sysconf("SC_CLK_TCK")
        self._first: dict[int, float] = {}  # pid -> CPU seconds at its first sample
        self._last: dict[int, float] = {}
        self._role: dict[int, str] = {}
        self._tree_of: dict[int, str | None] = {}
        self._box = (0.0, 0.0)
        self.box_busy_s = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> CpuSampler:
        self._box = box_cpu_s()
        self._sample(first=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._sample(first=False)
        self.box_busy_s = box_cpu_s()[0] - self._box[0]

    def by_role(self) -> dict[str, float]:
        totals = dict.fromkeys(ROLES, 0.0)
        for pid, last in self._last.items():
            totals[self._role[pid]] += last - self._first.get(pid, 0.0)
        totals["unseen"] = max(0.0, self.box_busy_s - sum(totals.values()))
        return totals

    def line(self) -> str:
        """``CPU seconds by process: gunicorn 40.1, worker 12.0, ...``, largest first."""
        ranked = sorted(self.by_role().items(), key=lambda item: -item[1])
        return "CPU seconds by process (/proc): " + ", ".join(f"{r} {s:.1f}" for r, s in ranked)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample(first=False)

    def _sample(self, *, first: bool) -> None:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            try:
                stat = (entry / "stat").read_text()
                if pid not in self._role:
                    self._role[pid] = self._classify(pid=pid, entry=entry, stat=stat)
            except OSError:  # gone meanwhile
                continue
            fields = stat.rsplit(")", 1)[1].split()
            seconds = (int(fields[11]) + int(fields[12])) / self._tick  # utime, stime
            if first:
                self._first[pid] = seconds
            self._last[pid] = seconds

    def _classify(self, *, pid: int, entry: Path, stat: str) -> str:
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[16]) > 0:  # stat(5) field 19, nice: e.g. 19
            return "niced"
        tree = self._tree(pid=pid, ppid=int(fields[1]))
        if tree is not None:
            return tree
        cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        if name == "postgres" or cmdline.startswith("postgres"):
            return "postgres" if f" {self._database} " in f"{cmdline} " else "postgres, other"
        if name.startswith("redis"):
            return "redis"
        if "locust" in cmdline:
            return "locust"
        return "other"

    def _tree(self, *, pid: int, ppid: int) -> str | None:
        """The role of the tree ``pid`` belongs to, if any (its ancestors, walked once)."""
        if pid in self._trees:
            return self._trees[pid]
        if pid not in self._tree_of:
            role = None
            if ppid > 1:
                try:
                    parent = Path(f"/proc/{ppid}/stat").read_text()
                    grandparent = int(parent.rsplit(")", 1)[1].split()[1])
                    role = self._tree(pid=ppid, ppid=grandparent)
                except OSError:
                    role = None
            self._tree_of[pid] = role
        return self._tree_of[pid]


class WaitSampler:
    """Samples the database's client backends every ``interval_s`` until stopped."""

    QUERY = """
        SELECT state, wait_event_type, wait_event FROM pg_stat_activity
        WHERE datname = current_database() AND backend_type = 'client backend'
          AND pid <> pg_backend_pid()
    """

    def __init__(self, *, interval_s: float = 0.25) -> None:
        self.interval_s = interval_s
        self.samples = 0
        self.states: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> WaitSampler:
        if connection.vendor == "postgresql":
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        try:
            with connection.cursor() as cursor:
                while not self._stop.wait(self.interval_s):
                    cursor.execute(self.QUERY)
                    self.samples += 1
                    for state, kind, event in cursor.fetchall():
                        self.states[_state(state=state, kind=kind, event=event)] += 1
        finally:
            connection.close()  # this thread's own connection

    def means(self) -> dict[str, float]:
        """Mean backends per sample in each state, busiest first."""
        if not self.samples:
            return {}
        return {state: count / self.samples for state, count in self.states.most_common()}

    def line(self) -> str:
        if not self.samples:
            return "PostgreSQL backends: not sampled"
        parts = [f"{state} {mean:.2f}" for state, mean in self.means().items()]
        return f"PostgreSQL backends, mean of {self.samples} samples: " + ", ".join(parts)


def _state(*, state: str | None, kind: str | None, event: str | None) -> str:
    if state == "active":
        return "active on CPU" if kind is None else f"active waiting {kind}:{event}"
    if state == "idle in transaction":
        return "idle in transaction"
    return state or "unknown"

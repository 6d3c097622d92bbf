"""The load benchmark's evidence: CPU seconds by process tree from /proc, and what the database's
backends were doing from pg_stat_activity."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psycopg2
import pytest
from django.db import connection

from leaderboard.bench.evidence import CpuSampler, WaitSampler

BUSY = "import time\nend = time.monotonic() + 1.5\nwhile time.monotonic() < end: pass"


def test_a_child_of_a_tree_counts_for_that_tree() -> None:
    with CpuSampler(trees={"worker": os.getpid()}, database="none", interval_s=0.1) as cpu:
        subprocess.run([sys.executable, "-c", BUSY], check=True)
    # A 1.5 s busy loop gets some CPU however busy the box is, and it is the tree's.
    assert cpu.by_role()["worker"] >= 0.1


@pytest.mark.django_db(transaction=True)
def test_a_backend_idle_in_a_transaction_is_seen() -> None:
    db = connection.settings_dict
    other = psycopg2.connect(
        dbname=db["NAME"], user=db["USER"], host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432
    )
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT 1")  # opens a transaction, left open
        with WaitSampler(interval_s=0.05) as waits:
            time.sleep(0.6)
    finally:
        other.close()
    assert waits.samples >= 3
    assert waits.means()["idle in transaction"] == pytest.approx(1.0)
    assert "idle in transaction 1.00" in waits.line()

"""The console log: the sweepers' routine runs leave no line, and a sweep that changed
something says so in words, not as a raw dict."""

from __future__ import annotations

import logging

from leaderboard.logs import RoutineTaskFilter, ids_in_words
from leaderboard.services.sweep import SweepReport
from leaderboard.sharding.sweep import ShardSweepReport

SUBMISSIONS = "leaderboard.tasks.sweep_submissions"


def record(name: str, level: int, msg: str, args) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, None)


def test_celerys_lines_about_the_sweepers_are_dropped_and_nothing_else():
    routine = [
        record("celery.beat", logging.INFO, "Scheduler: Sending due task %s (%s)",
               ("sweep-submissions", SUBMISSIONS)),
        record("celery.worker.strategy", logging.INFO, "Task %(name)s[%(id)s] received",
               {"name": SUBMISSIONS, "id": "1"}),
        record("celery.app.trace", logging.INFO,
               "Task %(name)s[%(id)s] succeeded in %(runtime)ss: %(return_value)s",
               {"name": "leaderboard.tasks.sweep_shards", "id": "2", "runtime": 0.01,
                "return_value": {"resent": []}}),
    ]  # fmt: skip
    kept = [
        record("celery.app.trace", logging.ERROR, "Task %(name)s[%(id)s] raised",
               {"name": SUBMISSIONS, "id": "3"}),  # a failure is still shown
        record("celery.app.trace", logging.INFO, "Task %(name)s[%(id)s] succeeded",
               {"name": "leaderboard.tasks.score_submission", "id": "4"}),
        record("leaderboard.tasks", logging.INFO, "sweep: %s", ("1 submission failed",)),
    ]  # fmt: skip
    routine_filter = RoutineTaskFilter()
    assert [routine_filter.filter(r) for r in routine] == [False, False, False]
    assert [routine_filter.filter(r) for r in kept] == [True, True, True]


def test_sweep_reports_in_words():
    assert SweepReport().summary() == "" and ShardSweepReport().summary() == ""
    assert SweepReport(requeued=["a"], failed=["b", "c"]).summary() == (
        "1 submission back in the queue, past its deadline (a); "
        "2 submissions failed, out of attempts (b, c)"
    )
    shards = ShardSweepReport(resent=["s:1:0"], pruned=["p1", "p2", "p3", "p4", "p5"])
    assert shards.summary() == (
        "1 shard sent again, its worker lost (s:1:0); "
        "5 shard folders removed (p1, p2, p3 and 2 more)"
    )
    assert ids_in_words([], "shard", "removed") == ""

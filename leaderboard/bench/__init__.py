"""Platform benchmarks run as management commands: they print measured figures, assert nothing.

``bench_leaderboard``: leaderboard page latency over a seeded edition of many submissions.
``bench_dispatch``: upload-to-running latency with an idle worker.
"""

"""``leaderboard-cli``: submit models and follow them from a terminal, a script or a notebook.

Talks to any server's /api/ over HTTP with ``requests``; imports nothing from the site itself,
so it runs wherever the participant trains. Every failure prints the server's message and code
and exits non-zero.
"""

"""``python -m leaderboard.client`` and the ``leaderboard-cli`` console script."""

from __future__ import annotations

import sys

from leaderboard.client.cli import main

if __name__ == "__main__":
    sys.exit(main())

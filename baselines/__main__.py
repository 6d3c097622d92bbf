"""``python -m baselines``: see ``baselines.cli``."""

from baselines.cli import main

raise SystemExit(main())

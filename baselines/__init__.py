"""The historical networks, trained by our own recipes and entered like any participant.

``baselines.architectures`` holds the networks (pure torch; a plugin of the evaluator's
architecture registry, declared in ``pyproject.toml``), ``baselines.catalogue`` their year,
paper and recipe, ``baselines.train`` the seeded training loop, ``baselines.export`` the
submission files and ``baselines.pipeline`` the cached train-or-reuse step that the site's
seeding command calls. Nothing here imports Django: the site's side lives in
``leaderboard.services.baselines``.
"""

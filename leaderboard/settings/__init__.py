"""Settings modules: ``local`` (laptop default), ``test``, ``production``; all build on ``base``."""

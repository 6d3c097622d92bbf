"""Warm sandboxes in a worker's pool process (``evaluator.sandbox.pool``): how many, how old.

A pool process that runs models keeps ``SCORING_WARM_SANDBOXES`` children (default 1; 0 runs
every model cold) started ahead, each used for one model, discarded after
``SCORING_WARM_MAX_AGE_S`` unused. Read from Django's settings where they are set there, else
from the environment, so a worker's environment alone can turn the pool off
(``bench_drain --warm 0``).
"""

from __future__ import annotations

import logging
import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SIZE_SETTING = "SCORING_WARM_SANDBOXES"
AGE_SETTING = "SCORING_WARM_MAX_AGE_S"
DEFAULT_SIZE = 1
DEFAULT_MAX_AGE_S = 600.0
logger = logging.getLogger(__name__)


def warm_settings() -> tuple[int, float]:
    """(children kept warm, seconds an unused one may wait), checked."""
    size = _number(SIZE_SETTING, DEFAULT_SIZE, int)
    age = _number(AGE_SETTING, DEFAULT_MAX_AGE_S, float)
    if size < 0 or age <= 0:
        raise ImproperlyConfigured(
            f"{SIZE_SETTING} must be 0 or more and {AGE_SETTING} above 0 (got {size}, {age})"
        )
    return int(size), float(age)


def start_warm_pool() -> int:
    """Keep warm children in this process from its first run on; returns how many."""
    from evaluator.sandbox import pool

    size, age = warm_settings()
    pool.configure(size=size, max_age_s=age)
    return size


def stop_warm_pool() -> None:
    """Discard this process's warm children (they die with it in any case); log how its runs
    were served."""
    from evaluator.sandbox import pool

    served = warm_served()
    if served:
        logger.info("warm sandboxes: runs served %s", served)
    pool.configure(size=0)


def warm_served() -> dict[str, int]:
    """How this process's runs were served so far: warm, started on demand, cold."""
    from evaluator.sandbox import pool

    active = pool.active()
    return dict(active.served) if active is not None else {}


def _number(name: str, default: float, kind: type) -> float:
    raw = getattr(settings, name, None)
    if raw is None:
        raw = os.environ.get(name, default)
    try:
        return kind(raw)
    except (TypeError, ValueError):
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None

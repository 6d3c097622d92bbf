"""The worker's warm-sandbox settings (``leaderboard.evaluation.warm``): read, checked, applied."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from evaluator.sandbox import pool
from leaderboard.evaluation import warm


@pytest.fixture(autouse=True)
def no_pool_left():
    yield
    pool.configure(size=0)


def test_one_warm_child_for_ten_minutes_by_default(monkeypatch) -> None:
    monkeypatch.delenv(warm.SIZE_SETTING, raising=False)
    monkeypatch.delenv(warm.AGE_SETTING, raising=False)
    assert warm.warm_settings() == (1, 600.0)


def test_settings_win_over_the_environment(settings, monkeypatch) -> None:
    monkeypatch.setenv(warm.SIZE_SETTING, "3")
    assert warm.warm_settings()[0] == 3
    settings.SCORING_WARM_SANDBOXES = 2
    settings.SCORING_WARM_MAX_AGE_S = 30
    assert warm.warm_settings() == (2, 30.0)


@pytest.mark.parametrize(("size", "age"), [("two", "600"), ("-1", "600"), ("1", "0")])
def test_a_bad_value_is_refused_by_name(monkeypatch, size: str, age: str) -> None:
    monkeypatch.setenv(warm.SIZE_SETTING, size)
    monkeypatch.setenv(warm.AGE_SETTING, age)
    with pytest.raises(ImproperlyConfigured, match="SCORING_WARM"):
        warm.warm_settings()


def test_zero_runs_every_model_cold_and_the_pool_stops(monkeypatch) -> None:
    monkeypatch.setenv(warm.SIZE_SETTING, "0")
    assert warm.start_warm_pool() == 0 and pool.active() is None
    monkeypatch.setenv(warm.SIZE_SETTING, "1")
    assert warm.start_warm_pool() == 1 and pool.active() is not None
    assert warm.warm_served() == {"warm": 0, "on_demand": 0, "cold": 0}
    warm.stop_warm_pool()
    assert pool.active() is None and warm.warm_served() == {}

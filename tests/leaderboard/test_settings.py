"""Settings switch on environment variables; production passes Django's deployment checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from leaderboard.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]
SHOW = (
    "from django.conf import settings as s; import json; print(json.dumps({"
    "'db': s.DATABASES['default']['ENGINE'], 'name': str(s.DATABASES['default']['NAME']),"
    "'broker': s.CELERY_BROKER_URL, 'transport': s.CELERY_BROKER_TRANSPORT_OPTIONS,"
    "'hard': s.CELERY_TASK_TIME_LIMIT, 'soft': s.CELERY_TASK_SOFT_TIME_LIMIT}))"
)


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """Run manage.py with a clean environment: only PATH/HOME plus what the test gives."""
    base = {key: os.environ[key] for key in ("PATH", "HOME") if key in os.environ}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def settings_seen(**env: str) -> dict:
    result = manage("shell", "-c", SHOW, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_no_environment_means_sqlite_and_a_filesystem_queue_under_var(tmp_path):
    seen = settings_seen(LEADERBOARD_VAR_DIR=str(tmp_path))
    assert seen["db"] == "django.db.backends.sqlite3"
    assert seen["name"] == str(tmp_path / "db.sqlite3")
    assert seen["broker"] == "filesystem://"
    assert seen["transport"]["data_folder_in"] == str(tmp_path / "celery" / "queue")
    assert (tmp_path / "celery" / "queue").is_dir()


def test_database_and_broker_urls_switch_to_postgres_and_redis(tmp_path):
    seen = settings_seen(
        LEADERBOARD_VAR_DIR=str(tmp_path),
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/3",
        CELERY_TASK_TIME_LIMIT="900",
    )
    assert seen["db"] == "django.db.backends.postgresql"
    assert seen["broker"] == "redis://127.0.0.1:6379/3"
    assert seen["hard"] == 900 and seen["soft"] < seen["hard"]
    assert seen["transport"]["visibility_timeout"] > seen["hard"]


def test_production_settings_pass_check_deploy(tmp_path):
    env = {
        "DJANGO_SETTINGS_MODULE": "leaderboard.settings.production",
        "DJANGO_SECRET_KEY": "x" * 20 + "-production-secret-" + "y" * 30,
        "DJANGO_ALLOWED_HOSTS": "arena.example.org",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "LEADERBOARD_VAR_DIR": str(tmp_path),
    }
    result = manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout

    del env["DJANGO_SECRET_KEY"]
    missing = manage("check", **env)
    assert missing.returncode != 0 and "DJANGO_SECRET_KEY" in missing.stderr


def test_celery_is_json_only_and_routes_scoring_to_the_gpu_queue():
    conf = celery_app.conf
    assert conf.accept_content == ["json"]
    assert conf.task_serializer == conf.result_serializer == "json"
    assert conf.task_routes["leaderboard.tasks.score_submission"] == {"queue": "gpu"}
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1 and conf.worker_concurrency == 1
    assert conf.task_soft_time_limit < conf.task_time_limit
    assert "leaderboard.tasks.sweep_submissions" in {
        entry["task"] for entry in conf.beat_schedule.values()
    }
    celery_app.loader.import_default_modules()  # what a worker does on start: autodiscovery
    assert {"leaderboard.tasks.score_submission", "leaderboard.tasks.sweep_submissions"} <= set(
        celery_app.tasks
    )


def python(code: str, **env: str) -> subprocess.CompletedProcess:
    """Run ``python -c code`` in the repository with only PATH/HOME plus what the test gives."""
    base = {key: os.environ[key] for key in ("PATH", "HOME") if key in os.environ}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_celery_app_refuses_to_load_without_django_settings_module(tmp_path):
    refused = python("import leaderboard.celery", LEADERBOARD_VAR_DIR=str(tmp_path))
    assert refused.returncode != 0
    assert "DJANGO_SETTINGS_MODULE is not set" in refused.stderr

    worker = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "leaderboard", "report"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "LEADERBOARD_VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert worker.returncode != 0 and "DJANGO_SETTINGS_MODULE is not set" in worker.stderr

    loaded = python(
        "import leaderboard.celery as c; print(c.app.conf.broker_url)",
        DJANGO_SETTINGS_MODULE="leaderboard.settings.local",
        LEADERBOARD_VAR_DIR=str(tmp_path),
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "filesystem://"


def test_the_package_and_the_client_load_without_any_settings(tmp_path):
    done = python("import leaderboard, leaderboard.client.cli", HOME=str(tmp_path))
    assert done.returncode == 0, done.stderr


PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": "x" * 50,
    "DJANGO_ALLOWED_HOSTS": "arena.example.org",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
}
SCORING_SETTINGS = (
    "import importlib, json, sys; s = importlib.import_module(sys.argv[1]); "
    "print(json.dumps([s.SCORING_REQUIRE_SANDBOX, s.SCORING_MEMORY_MB, s.SCORING_PIDS_MAX]))"
)


def scoring_settings(module: str, tmp_path: Path, **env: str) -> list:
    base = {key: os.environ[key] for key in ("PATH", "HOME") if key in os.environ}
    done = subprocess.run(
        [sys.executable, "-c", SCORING_SETTINGS, f"leaderboard.settings.{module}"],
        cwd=ROOT,
        env={**base, **PRODUCTION_ENV, "LEADERBOARD_VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("value", ["false", "0", "no", "off", ""])
def test_production_always_requires_the_sandbox(tmp_path, value):
    assert scoring_settings("production", tmp_path, SCORING_REQUIRE_SANDBOX=value)[0] is True
    assert scoring_settings("local", tmp_path, SCORING_REQUIRE_SANDBOX="false")[0] is False


@pytest.mark.parametrize("module", ["local", "test", "production"])
def test_scoring_runs_are_capped_by_default_in_every_settings_module(tmp_path, module):
    assert scoring_settings(module, tmp_path)[1:] == [8192, 256]
    assert scoring_settings(module, tmp_path, SCORING_MEMORY_MB="2048")[1] == 2048
    # 0 is the explicit way to say "no cap".
    no_caps = {"SCORING_MEMORY_MB": "0", "SCORING_PIDS_MAX": "0"}
    assert scoring_settings(module, tmp_path, **no_caps)[1:] == [None, None]

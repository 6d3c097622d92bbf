# syntax=docker/dockerfile:1
# A GPU scoring worker: Celery, the evaluator, onnxruntime-gpu and bubblewrap, on NVIDIA's CUDA
# runtime image. Build from the repository root:
#   docker build -f docker/worker.Dockerfile -t arena-worker .
#
# Why nvidia/cuda and not pytorch/pytorch: the requirements pin torch==2.14.1, whose PyPI wheel
# brings its own CUDA 13.0 and cuDNN 9 libraries (cuda-toolkit 13.0.3, nvidia-cudnn-cu13), and a
# pytorch/pytorch tag for exactly 2.14.1 could not be checked from the machine this was written
# on. Installing the pinned wheel over a CUDA 13.0 runtime image gives exactly the versions the
# tests ran with, with the NVIDIA container environment (driver capabilities, library paths).
# Ubuntu 24.04's Python is 3.12 (the test suite runs 3.11; every pinned package has 3.12 wheels).
FROM nvidia/cuda:13.0.2-runtime-ubuntu24.04

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=leaderboard.settings.production \
    LEADERBOARD_VAR_DIR=/srv/var \
    DJANGO_MEDIA_ROOT=/srv/shared/media \
    LEADERBOARD_DATA_ROOT=/srv/shared/data \
    SCORING_SHARD_DIR=/srv/shared/shards \
    SCORING_DEVICE=cuda \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility

RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv bubblewrap \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/venv

WORKDIR /app
COPY requirements/ requirements/
# onnxruntime-gpu replaces onnxruntime (both install the same module): the CPU build is left out
# and the GPU build (CUDA 13, 1.31.1: the newest published) installed with its CUDA extras.
RUN grep -v '^onnxruntime==' requirements/base.txt > /tmp/base-gpu.txt \
    && sed 's#^-r base.txt#-r /tmp/base-gpu.txt#' requirements/web.txt > /tmp/web-gpu.txt \
    && pip install -r /tmp/web-gpu.txt "onnxruntime-gpu[cuda,cudnn]==1.31.1" \
    && rm /tmp/base-gpu.txt /tmp/web-gpu.txt

COPY manage.py pyproject.toml ./
COPY leaderboard/ leaderboard/
COPY evaluator/ evaluator/
COPY baselines/ baselines/
# The project's metadata, for its entry points: the architecture plugins the evaluator finds
# (the baseline networks). Editable: the code stays where it was copied.
RUN pip install --no-deps -e .
COPY docker/entrypoint.sh docker/healthcheck.py /usr/local/bin/

RUN useradd --uid 10001 --create-home --shell /usr/sbin/nologin app \
    && mkdir -p /srv/var /srv/shared/media /srv/shared/data /srv/shared/shards \
    && chown -R app:app /srv/var /srv/shared

USER 10001:10001
# The worker answers Celery's ping through the broker (its node name is WORKER_NAME).
HEALTHCHECK --interval=60s --timeout=30s --start-period=120s --retries=3 \
    CMD ["python", "/usr/local/bin/healthcheck.py", "worker"]
ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]
CMD ["worker", "-Q", "gpu,gpu-large"]

# syntax=docker/dockerfile:1
# The site's image: Django behind gunicorn, static files served by WhiteNoise. The same image
# runs Celery beat (the sweepers) and CPU-only workers (queues "cpu" and "default"), which is
# why it carries bubblewrap. Build from the repository root:
#   docker build -f docker/web.Dockerfile -t arena-web .
# Python 3.11.7 is the interpreter the test suite runs on.
FROM python:3.11.7-slim-bookworm

# PyTorch's CPU wheels: the site and CPU workers need no CUDA libraries (about 4 GB less).
# Set TORCH_INDEX to an empty string to take PyPI's default (CUDA) wheels instead.
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=leaderboard.settings.production \
    LEADERBOARD_VAR_DIR=/srv/var \
    DJANGO_STATIC_ROOT=/srv/static \
    DJANGO_MEDIA_ROOT=/srv/shared/media \
    LEADERBOARD_DATA_ROOT=/srv/shared/data \
    SCORING_SHARD_DIR=/srv/shared/shards

# bubblewrap: the sandbox of CPU workers. No recommends, lists removed: a small layer.
RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements/ requirements/
RUN pip install ${TORCH_INDEX:+--extra-index-url "$TORCH_INDEX"} -r requirements/web.txt

COPY manage.py pyproject.toml ./
COPY leaderboard/ leaderboard/
COPY evaluator/ evaluator/
COPY baselines/ baselines/
# The project's metadata, for its entry points: the architecture plugins the evaluator finds
# (the baseline networks). Editable: the code stays where it was copied.
RUN pip install --no-deps -e .
COPY docker/entrypoint.sh docker/healthcheck.py /usr/local/bin/

# Static files are collected at build time (production settings need their variables set,
# not their real values, for this step); the named volume /srv/shared is owned by the app user.
RUN DJANGO_SECRET_KEY=build DJANGO_ALLOWED_HOSTS=build DATABASE_URL=postgres://build/build \
    python manage.py collectstatic --noinput --verbosity 0 \
    && useradd --uid 10001 --create-home --shell /usr/sbin/nologin app \
    && mkdir -p /srv/var /srv/shared/media /srv/shared/data /srv/shared/shards \
    && chown -R app:app /srv/var /srv/shared

USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "/usr/local/bin/healthcheck.py"]
ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]
CMD ["web"]

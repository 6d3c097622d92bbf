#!/bin/sh
# One image, several roles: web (migrations, then gunicorn), worker, beat, or any command.
set -eu
cd "${APP_DIR:-/app}"

role="${1:-web}"
[ "$#" -gt 0 ] && shift

case "$role" in
web)
    if [ "${MIGRATE_ON_START:-1}" = "1" ]; then
        python manage.py migrate --noinput
    fi
    exec gunicorn leaderboard.wsgi:application \
        --bind "0.0.0.0:${PORT:-8000}" \
        --workers "${GUNICORN_WORKERS:-3}" \
        --timeout "${GUNICORN_TIMEOUT:-300}" \
        --access-logfile - \
        "$@"
    ;;
worker)
    # One task at a time, one message reserved (one worker per GPU); node name from
    # WORKER_NAME, queues from the arguments (-Q gpu,gpu-large by default).
    exec celery -A leaderboard worker \
        --hostname "${WORKER_NAME:-worker@%h}" \
        --concurrency "${CELERY_WORKER_CONCURRENCY:-1}" \
        --prefetch-multiplier 1 \
        --without-gossip --without-mingle \
        --loglevel "${CELERY_LOG_LEVEL:-INFO}" \
        "$@"
    ;;
beat)
    # The sweepers' schedule. Run exactly one beat per deployment.
    mkdir -p "${LEADERBOARD_VAR_DIR:-/srv/var}/celery"
    exec celery -A leaderboard beat \
        --schedule "${LEADERBOARD_VAR_DIR:-/srv/var}/celery/beat-schedule" \
        --pidfile "${LEADERBOARD_VAR_DIR:-/srv/var}/celery/beat.pid" \
        --loglevel "${CELERY_LOG_LEVEL:-INFO}" \
        "$@"
    ;;
*)
    exec "$role" "$@"
    ;;
esac

#!/bin/sh
# The image's entry point: one image, several roles.
#
#   ROLE=web      daphne (python -m sketchsite.serve) on 0.0.0.0:$PORT (Cloud Run sets PORT; 8080 by default)
#   ROLE=worker   the RQ worker with its scheduler and the reconciler (manage.py sketchworker)
#   ROLE=migrate  apply database migrations, then exit (run it as a job before a release)
#   manage ARGS   any management command, e.g. `manage createsuperuser`
#
# The first argument, when given, wins over ROLE. Every role `exec`s its program so that it is
# PID 1 and receives the platform's SIGTERM itself (daphne closes sockets, the worker finishes or
# hands back its job).
set -eu

APP_DIR="${APP_DIR:-$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)}"
cd "$APP_DIR"

role="${1:-${ROLE:-web}}"
if [ "$#" -gt 0 ]; then
    shift
fi

case "$role" in
    web)
        port="${PORT:-8080}"
        case "$port" in
            ''|*[!0-9]*) echo "entrypoint: PORT must be a number, not '$port'" >&2; exit 64 ;;
        esac
        # daphne's command line with per-route request body limits (sketchsite/serve.py).
        # -v 0: daphne's own access log would print query strings (?token=); the app logs each
        # request itself, without them. No --proxy-headers: daphne would trust the first,
        # client-supplied X-Forwarded-For entry; DRF's NUM_PROXIES picks the right one instead.
        exec python -m sketchsite.serve -v 0 -b "${HOST:-0.0.0.0}" -p "$port" "$@" sketchsite.asgi:application
        ;;
    worker)
        # A Cloud Run *service* (K_SERVICE is set) must listen on $PORT even for a worker: answer
        # its probes from the worker process itself. Worker pools, VMs and jobs need nothing.
        if [ -n "${K_SERVICE:-}" ] && [ -z "${WORKER_HEALTH_PORT:-}" ]; then
            export WORKER_HEALTH_PORT="${PORT:-8080}"
        fi
        exec python manage.py sketchworker "$@"
        ;;
    migrate)
        exec python manage.py migrate --noinput "$@"
        ;;
    manage)
        exec python manage.py "$@"
        ;;
    *)
        echo "entrypoint: unknown role '$role' (expected web, worker, migrate or manage)" >&2
        exit 64
        ;;
esac

# syntax=docker/dockerfile:1
# One image, two roles (web, worker) plus the migrate job: see docker/entrypoint.sh and
# docs/DEPLOY.md. Build: docker build -t sketch-studio .

# ----------------------------------------------------------------------------- build stage
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

# Every pinned dependency ships a manylinux wheel for CPython 3.11 (opencv-python-headless,
# numpy, pillow, pillow-heif and psycopg[binary] bundle their native libraries), so no compiler
# is needed; the virtualenv is copied whole into the runtime stage.
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.txt /tmp/requirements.txt
RUN pip install --upgrade pip && pip install -r /tmp/requirements.txt

# ----------------------------------------------------------------------------- runtime stage
FROM python:3.11-slim AS runtime

# opencv-python-headless needs no system package on python:3.11-slim: `ldd` on cv2's module
# and on every bundled library resolves to glibc, libstdc++6, libgcc-s1 and zlib1g, which the
# base image already has (tests/production/test_docker.py checks this against the venv). No
# libgl1/libglib2.0-0: those are for the non-headless build.
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH \
    APP_DIR=/app \
    VAR_DIR=/app/var \
    PORT=8080 \
    ROLE=web

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app

COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# The code belongs to root: the app user can read it but not change it.
COPY . /app

# Only var/ (temp files; SQLite and media in the embedded default) is writable by the app user.
# Static files are collected (and compressed, with a manifest for whitenoise) at build time.
# The settings refuse to load without a real secret when DEBUG is off, so this one command gets
# a throwaway random key that exists only in its own environment: it is not an ARG or ENV and
# is in no layer. Nothing else secret is needed to build.
RUN DJANGO_SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
    DEBUG=false ENV_FILE=/nonexistent \
    python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p /app/var/tmp /app/var/media \
    && chown app:app /app/var /app/var/tmp /app/var/media \
    && chmod +x /app/docker/entrypoint.sh

USER app:app

EXPOSE 8080

ENTRYPOINT ["/app/docker/entrypoint.sh"]
# The role: web (default), worker, migrate, or `manage <command>`; ROLE works as well.
CMD []

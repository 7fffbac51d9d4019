# syntax=docker/dockerfile:1
# One image, two roles (web, worker) plus the migrate job: see docker/entrypoint.sh and
# docs/DEPLOY.md. Build: docker build -t sketch-studio .

# The base: the official image by default; `make image` passes a local Debian one where no
# container registry can be reached (scripts/image/base.py, docs/DEPLOY.md).
ARG BASE_IMAGE=python:3.11-slim

# ----------------------------------------------------------------------------- build stage
FROM ${BASE_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

# Every pinned dependency ships a manylinux wheel for CPython 3.11 (opencv-python-headless,
# numpy, pillow, pillow-heif and psycopg[binary] bundle their native libraries), so no compiler
# is needed; the virtualenv is copied whole into the runtime stage. `python3`: the official image
# has it in /usr/local/bin, a Debian base in /usr/bin.
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.txt /tmp/requirements.txt
COPY docker/prune-venv.sh /tmp/prune-venv.sh
# Where pip must go through a TLS-inspecting proxy or a private index, `make image` mounts the
# host's CA bundle and pip settings as build secrets (scripts/image/pip_settings.py): they are
# read by this one command and kept in no layer.
# No bytecode yet (--no-compile): the runtime stage writes it for the modules the roles import.
RUN --mount=type=secret,id=pip_ca,required=false \
    --mount=type=secret,id=pip_conf,required=false \
    if [ -s /run/secrets/pip_ca ]; then export PIP_CERT=/run/secrets/pip_ca; fi \
    && if [ -s /run/secrets/pip_conf ]; then export PIP_CONFIG_FILE=/run/secrets/pip_conf; fi \
    && pip install --upgrade pip \
    && pip install --no-compile -r /tmp/requirements.txt \
    && sh /tmp/prune-venv.sh /opt/venv

# Static files are collected (and compressed, with a manifest for whitenoise) here, where the
# packages' copies of them are: those then leave the virtualenv, and the runtime stage takes the
# collected files alone. Source maps go too: only developer tools ever ask for them.
# The settings refuse to load without a real secret when DEBUG is off, so this one command gets
# a throwaway random key that exists only in its own environment: it is not an ARG or ENV and
# is in no layer. Nothing else secret is needed to build.
WORKDIR /app
COPY . /app
RUN DJANGO_SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
    DEBUG=false ENV_FILE=/nonexistent \
    python manage.py collectstatic --noinput --verbosity 0 \
    && find /opt/venv/lib -depth -type d -path '*/site-packages/*/static' -exec rm -rf {} + \
    && find /app/var/staticfiles -name '*.map' -delete

# ----------------------------------------------------------------------------- runtime stage
FROM ${BASE_IMAGE} AS runtime

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
COPY --from=build /app/var/staticfiles /app/var/staticfiles

# Bytecode for what the web, the worker and the migrate job import (docker/warm_bytecode.py),
# written once here as the app user cannot. The same throwaway secret as above.
# Only var/ (temp files; SQLite and media in the embedded default) is writable by the app user.
RUN DJANGO_SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
    DEBUG=false ENV_FILE=/nonexistent \
    python docker/warm_bytecode.py \
    && mkdir -p /app/var/tmp /app/var/media \
    && chown app:app /app/var /app/var/tmp /app/var/media \
    && chmod +x /app/docker/entrypoint.sh

USER app:app

EXPOSE 8080

ENTRYPOINT ["/app/docker/entrypoint.sh"]
# The role: web (default), worker, migrate, or `manage <command>`; ROLE works as well.
CMD []

"""The signing keys: which secrets are refused, how one key is derived from another, and where
a local run keeps its own. Free of Django's settings because the settings module uses it."""

import hashlib
import hmac
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

# Values that appeared in published examples or are otherwise guessable.
INSECURE_SECRETS = {
    "",
    "changeme",
    "change-me",
    "secret",
    "your-secret-key",
    "your-secret-key-here",
    "your-secret-key-change-in-production",
    "dev-insecure-secret-key-do-not-use-in-production",
}
# Django's check --deploy (security.W009) asks for 50 characters and 5 distinct ones.
MIN_SECRET_LENGTH = 50
MIN_TOKEN_LENGTH = 32  # METRICS_TOKEN: compared, never used to sign


def is_public(secret: str) -> bool:
    return secret.lower() in INSECURE_SECRETS or "insecure" in secret.lower()


def is_insecure(secret: str, minimum: int = MIN_SECRET_LENGTH) -> bool:
    return is_public(secret) or len(secret) < minimum or len(set(secret)) < 5


def derive(key: str, purpose: bytes) -> str:
    return hmac.new(key.encode(), purpose, hashlib.sha256).hexdigest()


def signing_keys(secret_key: str, jwt_secret_key: str, *, debug: bool, embedded: bool, local_file: Path) -> tuple[str, str]:
    """Django's key and the token key, or ImproperlyConfigured saying what to set.

    ``embedded``: no service is configured, so every process of this install shares ``local_file``.
    """
    if not secret_key and jwt_secret_key and not is_insecure(jwt_secret_key):
        # A .env with only JWT_SECRET_KEY works unchanged while the two keys stay distinct.
        secret_key = derive(jwt_secret_key, b"sketchsite django SECRET_KEY")

    # No key of our own (or a published one while developing): a local run makes a random one.
    # A deployment with any service configured runs on several processes or machines that must
    # share one key, so there it has to be given.
    if (debug or embedded) and (not secret_key or (debug and is_public(secret_key))):
        from .local_secret import read_or_create

        secret_key = read_or_create(local_file)
    if debug and is_public(jwt_secret_key):
        jwt_secret_key = ""  # then derived from secret_key below

    if not debug:
        for name, value in (("DJANGO_SECRET_KEY", secret_key), ("JWT_SECRET_KEY", jwt_secret_key or secret_key)):
            if is_insecure(value):
                raise ImproperlyConfigured(
                    f"{name} is missing, a known default or shorter than {MIN_SECRET_LENGTH} characters. "
                    "Set it to a long random value (python -c 'import secrets; print(secrets.token_urlsafe(50))') "
                    "or set DEBUG=true for local development."
                )
        if jwt_secret_key and jwt_secret_key == secret_key:
            raise ImproperlyConfigured(
                "JWT_SECRET_KEY must differ from DJANGO_SECRET_KEY: a leak of one must not give away the other. "
                "Set it to its own random value, or leave it unset to have one derived from DJANGO_SECRET_KEY."
            )

    # Unset, the token key is derived from Django's: tokens and Django's signatures never share a key.
    return secret_key, jwt_secret_key or derive(secret_key, b"sketchsite JWT_SECRET_KEY")


def check_metrics_token(token: str, *, debug: bool) -> None:
    if not debug and token and is_insecure(token, MIN_TOKEN_LENGTH):
        raise ImproperlyConfigured(f"METRICS_TOKEN must be a random value of at least {MIN_TOKEN_LENGTH} characters (or unset).")

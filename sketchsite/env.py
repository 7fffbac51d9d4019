"""Reading settings from the environment, in the formats existing ``.env`` files use.

Kept free of Django imports so that it can be tested on its own and used before settings load.
"""

import json
import os
import re
from collections.abc import Mapping

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


class SettingError(ValueError):
    """A setting is present but cannot be understood."""


def get_str(env: Mapping[str, str], name: str, default: str = "") -> str:
    value = env.get(name)
    return default if value is None else value.strip()


def get_bool(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise SettingError(f"{name} must be true or false, not {raw!r}")


def get_int(env: Mapping[str, str], name: str, default: int, *, minimum: int | None = None) -> int:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingError(f"{name} must be a whole number, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise SettingError(f"{name} must be at least {minimum}, not {value}")
    return value


def get_list(env: Mapping[str, str], name: str, default: list[str]) -> list[str]:
    """A list given as a JSON array (as existing .env files have it) or comma-separated."""
    raw = env.get(name)
    if raw is None or not raw.strip():
        return list(default)
    return parse_list(raw, name)


def parse_list(raw: str, name: str = "value") -> list[str]:
    text = raw.strip()
    if text.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            # "[::1],localhost" (an IPv6 host) starts like JSON but has no quoted strings at all.
            if '"' not in text:
                return _split_commas(text)
            raise SettingError(f"{name} looks like a JSON list but is not valid JSON: {exc}") from None
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise SettingError(f"{name} must be a JSON list of strings")
        return [i.strip() for i in items if i.strip()]
    return _split_commas(text)


def _split_commas(text: str) -> list[str]:
    parts = (part.strip().strip("\"'").strip() for part in text.split(","))
    return [part for part in parts if part]


_DRIVER_SUFFIX = re.compile(r"^(?P<scheme>[a-z0-9]+)\+[a-z0-9_]+(?=://)", re.IGNORECASE)


def normalise_database_url(url: str) -> str:
    """SQLAlchemy URLs carry a driver (``postgresql+asyncpg://``); Django's parser wants none."""
    url = _DRIVER_SUFFIX.sub(lambda m: m.group("scheme"), url.strip())
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    return url


def load_dotenv_file(path: str, environ: dict | None = None) -> None:
    """Load ``.env`` without overriding variables the process already has."""
    from dotenv import dotenv_values

    if not os.path.exists(path):
        return
    target = os.environ if environ is None else environ
    for key, value in dotenv_values(path).items():
        if value is not None and key not in target:
            target[key] = value

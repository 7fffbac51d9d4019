"""The signing key of a local run: random, made once, kept in a file only its owner can read.

A key written in the source is public: anyone could sign tokens for any account. Kept free of
Django imports because the settings module uses it before Django is set up.
"""

import os
import secrets
import tempfile
from pathlib import Path

KEY_BYTES = 50  # token_urlsafe(50): 67 characters, past Django's 50-character W009 threshold


def read_or_create(path: Path) -> str:
    """The key in ``path``; on first use a new random one, written with mode 0600.

    Several processes may start at once (daphne, ``manage.py`` commands): the file is written
    whole under a temporary name and linked into place, so a reader never sees half a key and
    the first writer wins.
    """
    key = _read(path)
    if key:
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret-")  # mkstemp creates it 0600
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(KEY_BYTES) + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(temporary)
    key = _read(path)
    if not key:
        raise OSError(f"{path} exists but holds no key: delete it to have a new one made")
    return key


def _read(path: Path) -> str:
    try:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)  # a copy or an unpacked archive may have widened it
        return path.read_text().strip()
    except FileNotFoundError:
        return ""

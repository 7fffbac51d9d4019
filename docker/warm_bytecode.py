"""Write, at build time, the bytecode of every module the image's roles import, and no other.

The virtualenv is installed without bytecode (pip --no-compile): most of what the packages ship
(Twisted's mail and SSH, the numpy and Django parts the service never touches) is never imported,
and compiling all of it cost ~45 MB. Yet without bytecode every start would compile what it
imports again (~3 s of CPU for the web: the app user cannot write it, PYTHONDONTWRITEBYTECODE is
set). So this imports what the web, the worker and the migrate job import, with bytecode writing
on: Python writes a .pyc for exactly those modules, standard library included.

Run with the build's throwaway settings (DEBUG off, a random secret): python docker/warm_bytecode.py
"""

import sys

sys.dont_write_bytecode = False

import importlib  # noqa: E402
import os  # noqa: E402
import pkgutil  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sketchsite.settings")
APPS = ("sketchsite", "accounts", "sketches")


def import_tree(package: str) -> None:
    """The package and every module under it (management commands, migrations, engine styles)."""
    module = importlib.import_module(package)
    for info in pkgutil.walk_packages(module.__path__, prefix=f"{package}."):
        importlib.import_module(info.name)


def main() -> None:
    import django

    django.setup()
    for app in APPS:
        import_tree(app)

    # The web: daphne and the Twisted/Autobahn stack under it, every URL's view.
    import daphne.cli
    import daphne.server  # noqa: F401
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018

    # The production services: PostgreSQL, Redis (queues, channel layer, cache), S3.
    import boto3
    import channels_redis.core  # noqa: F401
    import django.core.cache.backends.redis
    import django.db.backends.postgresql.base

    boto3.session.Session().client("s3", region_name="us-east-1", aws_access_key_id="build", aws_secret_access_key="build")

    # The migrate job: every migration module of every app.
    from django.db.migrations.loader import MigrationLoader

    MigrationLoader(None, ignore_no_migrations=True)

    # The worker's image decoders (Pillow loads its plugins lazily) and the API schema view.
    from drf_spectacular.generators import SchemaGenerator
    from PIL import Image

    Image.init()
    SchemaGenerator().get_schema(request=None, public=True)


if __name__ == "__main__":
    main()

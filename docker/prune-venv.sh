#!/bin/sh
# Drop from a built virtualenv what the service never loads at run time, before the runtime stage
# copies it: the installers (pip, setuptools), the packages' own test suites, type stubs, gettext
# sources (.po), the compiled translations (.mo) of every language but English (the site speaks
# English only: LANGUAGE_CODE, and no LocaleMiddleware), C headers and static libraries, the build
# tools some packages carry (numpy's f2py and distutils, autobahn's flatc compiler), and
# botocore's models of every AWS service but S3 and STS (STS: web-identity and assume-role
# credentials).
#
#   prune-venv.sh VENV
set -eu

venv="${1:?usage: prune-venv.sh VENV}"
site="$(find "$venv/lib" -maxdepth 2 -type d -name site-packages | head -n 1)"
[ -d "$site" ] || { echo "prune-venv: no site-packages under $venv/lib" >&2; exit 64; }

# The installers go by their own hand, so that their dist-info and bin/ scripts go too.
"$venv/bin/python" -m pip uninstall --yes --quiet pip setuptools wheel

# Test suites: `tests` packages everywhere; Twisted keeps its own in `test` packages. Django's
# `django/test` is run-time code (the test client) and is not touched.
find "$site" -depth -type d -name tests -exec rm -rf {} +
find "$site/twisted" -depth -type d -name test -exec rm -rf {} + 2>/dev/null || true

find "$site" -type f \( -name '*.pyi' -o -name '*.po' -o -name '*.pxd' -o -name '*.pyx' \) -delete
find "$site" -type f -path '*/locale/*/LC_MESSAGES/*.mo' ! -path '*/locale/en/*' ! -path '*/locale/en_*/*' -delete
find "$site" -depth -type d -path '*/numpy/_core/include' -exec rm -rf {} +
find "$site" -type f -name '*.a' -delete
rm -rf "$site/numpy/f2py" "$site/numpy/distutils" "$site/autobahn/_flatc" "$venv/bin/f2py" "$venv/bin/flatc"

if [ -d "$site/botocore/data" ]; then
    find "$site/botocore/data" -mindepth 1 -maxdepth 1 -type d ! -name s3 ! -name sts -exec rm -rf {} +
fi

"""Short version of `make fuzz` for the API: schemathesis in-process against the Django app.

Every operation of /api/schema/ gets a handful of generated requests (valid and invalid) with a
Bearer token; none may answer 5xx, and every answer must match the schema's response bodies
and content types. The long run (``python -m fuzz.api_fuzz``) adds the coverage and stateful
phases against a real daphne process with production settings, and checks status codes too.
"""

from contextlib import contextmanager

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from fuzz.st_hooks import augment_schema

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
EXAMPLES_PER_OPERATION = 8


def _schema():
    from django.test import Client

    from sketchsite.wsgi import application

    # With the links and enums of the long run (fuzz/st_hooks.py), so requests get past validation.
    raw = Client().get("/api/schema/?format=json", secure=True).json()
    augment_schema(raw)
    loaded = schemathesis.openapi.from_dict(raw)
    loaded.app = application  # what schemathesis.openapi.from_wsgi does after loading
    return loaded


@contextmanager
def keep_test_connection():
    """Requests go straight through the WSGI handler, whose request signals would close the
    test's database connection inside its transaction; Django's test client unhooks them too
    (and hooks them back after each of its own requests: use no test client inside this block)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _fuzz(operation, headers: dict, answered_2xx: set) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case):
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        if response.status_code < 300:
            answered_2xx.add(operation.label)

    run()


def test_every_operation_answers_without_server_errors(db, user):
    from accounts.tokens import issue_pair

    schema = _schema()
    operations, failures, answered_2xx = [], [], set()
    with keep_test_connection():
        for result in schema.get_all_operations():
            operation = result.ok()
            operations.append(operation.label)
            # A login of its own per operation: logout, logout-all and a password change end it at once.
            headers = {"Authorization": f"Bearer {issue_pair(user).access}", "X-Forwarded-Proto": "https"}
            try:
                _fuzz(operation, headers, answered_2xx)
            except (Exception, BaseExceptionGroup) as exc:  # the failure carries the request to reproduce it
                failures.append(f"{operation.label}: {exc}")
    assert len(operations) >= 15, operations
    assert not failures, "\n\n".join(failures)
    # The token works and generated data gets past validation (the others need ids of real objects).
    assert len(answered_2xx) >= 7, sorted(answered_2xx)

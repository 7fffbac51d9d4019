"""``make scan`` reads the server's JSON log: it must see every 5xx answer and every traceback."""

import json

from scripts.scan import read_log


def line(**record) -> str:
    return json.dumps(record)


def test_read_log_counts_requests_server_errors_and_exceptions(tmp_path):
    log = tmp_path / "daphne.log"
    log.write_text(
        "\n".join(
            [
                line(severity="INFO", logger="sketchsite.request", method="GET", path="/", status=200, user_id=None),
                line(severity="INFO", logger="sketchsite.request", method="GET", path="/health", status=503),
                line(severity="INFO", logger="sketchsite.request", method="POST", path="/login/", status=500, user_id=2),
                line(
                    severity="ERROR",
                    logger="django.request",
                    message="Internal Server Error: /login/",
                    traceback="Traceback (most recent call last):\n  ...\nNoReverseMatch: Reverse for 'id' not found.",
                ),
                line(severity="WARNING", logger="django.request", message="Not Found: /nothing"),
                "Traceback (most recent call last):",  # a plain-text one, e.g. from daphne itself
                "not json at all",
            ]
        )
    )
    seen, server_errors, exceptions = read_log(log)
    assert [record["status"] for record in seen] == [200, 503, 500]
    assert server_errors == {"503 GET /health": 1, "500 POST /login/": 1}
    assert exceptions == {
        "django.request: NoReverseMatch: Reverse for 'id' not found.": 1,
        "Traceback (most recent call last):": 1,
    }


def test_a_clean_log_has_no_errors(tmp_path):
    log = tmp_path / "daphne.log"
    log.write_text(line(severity="INFO", logger="sketchsite.request", method="GET", path="/", status=404) + "\n")
    seen, server_errors, exceptions = read_log(log)
    assert (len(seen), server_errors, exceptions) == (1, {}, {})

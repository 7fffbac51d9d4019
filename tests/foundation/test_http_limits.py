"""Bodies over the limit, through daphne as a client really sends them: 413 JSON, never a 500."""

import json

import pytest
import requests
from django.conf import settings

pytestmark = pytest.mark.django_db(transaction=True)


def test_huge_json_body_is_413_over_daphne(web):
    body = json.dumps({"email": "a@example.com", "password": "x", "pad": "y" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE * 4)})
    response = requests.post(f"{web.http}/api/auth/login", data=body, headers={"Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 413, response.text[:300]
    assert response.json()["code"] == "request_too_large"


def test_chunked_huge_body_is_413_over_daphne(web):
    def chunks():
        yield b'{"email": "a@example.com", "password": "x", "pad": "'
        for _ in range(16):
            yield b"y" * 65536
        yield b'"}'

    response = requests.post(
        f"{web.http}/api/auth/login", data=chunks(), headers={"Content-Type": "application/json"}, timeout=30
    )
    assert response.status_code == 413, response.text[:300]
    assert response.json()["code"] == "request_too_large"


def test_bad_json_over_daphne_is_400(web):
    response = requests.post(
        f"{web.http}/api/auth/register", data=b"{nope", headers={"Content-Type": "application/json"}, timeout=30
    )
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"

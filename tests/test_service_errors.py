"""Service errors reach API clients through the one DRF exception handler, in the API's shapes."""

import json

import pytest
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from sketchsite.errors import api_exception_handler
from sketchsite.exceptions import ServiceError

pytestmark = pytest.mark.django_db


def test_a_field_error_names_the_field(api, user):
    response = api.post("/api/auth/register", {"email": user.email, "password": "a-long-enough-passw0rd"}, format="json")
    assert response.status_code == 400
    assert json.loads(response.content) == {
        "detail": "email: An account with this email already exists.",
        "code": "email_taken",
        "errors": {"email": ["An account with this email already exists."]},
    }
    assert list(json.loads(response.content)) == ["detail", "code", "errors"]


def test_wrong_credentials_are_a_401_challenge(api, user):
    response = api.post("/api/auth/login", {"email": user.email, "password": "not-it"}, format="json")
    assert response.status_code == 401
    assert json.loads(response.content) == {"detail": "Email or password is incorrect.", "code": "invalid_credentials"}
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_an_unknown_choice_is_a_400_on_its_field(bearer, user):
    response = bearer(user).get("/api/sketch/", {"style": "crayon"})
    assert response.status_code == 400
    body = json.loads(response.content)
    assert body["code"] == "invalid_style" and list(body["errors"]) == ["style"]
    assert body["detail"] == f"style: {body['errors']['style'][0]}" and "pencil" in body["detail"]


def test_a_missing_object_is_a_404(bearer, user):
    response = bearer(user).get("/api/sketch/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert json.loads(response.content) == {"detail": "Sketch not found.", "code": "not_found"}


def test_too_many_pending_uploads_says_when_to_retry(bearer, user, settings):
    settings.MAX_PENDING_UPLOADS = 1
    client = bearer(user)
    body = {"filename": "a.png", "content_type": "image/png", "size": 10}
    assert client.post("/api/upload/presigned-url", body, format="json").status_code == 201
    response = client.post("/api/upload/presigned-url", body, format="json")
    assert response.status_code == 429
    assert json.loads(response.content)["code"] == "too_many_pending_uploads"
    assert 1 <= int(response["Retry-After"]) <= settings.AWS_PRESIGNED_URL_EXPIRATION + 1


class NoSchemeView(APIView):
    authentication_classes = []


def handle(exc: ServiceError, view: APIView):
    request = view.initialize_request(APIRequestFactory().get("/api/x"))
    return api_exception_handler(exc, {"view": view, "request": request})


def test_a_401_without_an_authentication_scheme_becomes_403_as_drf_does():
    class Unauthorised(ServiceError):
        status = 401

    response = handle(Unauthorised("Who are you?", "who"), NoSchemeView())
    assert (response.status_code, response.data) == (403, {"detail": "Who are you?", "code": "who"})
    assert "WWW-Authenticate" not in response

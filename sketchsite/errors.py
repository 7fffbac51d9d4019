"""Errors in one shape, ``{"detail": ..., "code": ...}`` (plus ``errors`` for fields), on every path."""

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.shortcuts import render
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from .exceptions import ServiceError

logger = logging.getLogger(__name__)
DATABASE_RETRY_AFTER = 5  # seconds: a dropped connection or a full pool is usually over by then


def _first_message(errors) -> str:
    """A one-line summary of DRF's nested field errors, e.g. ``email: This field is required.``"""
    if isinstance(errors, dict):
        for field, value in errors.items():
            inner = _first_message(value)
            return inner if field == "non_field_errors" else f"{field}: {inner}"
    if isinstance(errors, list) and errors:
        return _first_message(errors[0])
    return str(errors)


def _first_code(codes) -> str:
    if isinstance(codes, dict):
        return _first_code(next(iter(codes.values()), "invalid"))
    if isinstance(codes, list):
        return _first_code(codes[0]) if codes else "invalid"
    return str(codes)


def service_error_response(exc: ServiceError, context) -> Response:
    set_rollback()
    if exc.field:
        body = {"detail": f"{exc.field}: {exc.messages[0]}", "code": exc.code, "errors": {exc.field: exc.messages}}
    else:
        body = {"detail": exc.message, "code": exc.code}
    response = Response(body, status=exc.status)
    if exc.retry_after:
        response["Retry-After"] = str(int(exc.retry_after))
    if exc.status == status.HTTP_401_UNAUTHORIZED:
        # As DRF answers its own AuthenticationFailed: a challenge naming the view's scheme, else 403.
        challenge = context["view"].get_authenticate_header(context["request"])
        if challenge:
            response["WWW-Authenticate"] = challenge
        else:
            response.status_code = status.HTTP_403_FORBIDDEN
    return response


def api_exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        return service_error_response(exc, context)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": "The request body is too large.", "code": "request_too_large"},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, SuspiciousOperation):
        return Response({"detail": "The request was malformed.", "code": "bad_request"}, status=400)
    if isinstance(exc, (OperationalError, InterfaceError)):
        # A lost connection, a restarting server, no free pool connection: the client can retry.
        logger.error("database unavailable: %s", exc, exc_info=True)
        set_rollback()
        response = Response(
            {"detail": "The database is unavailable right now; try again in a few seconds.", "code": "database_unavailable"},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
        response["Retry-After"] = str(DATABASE_RETRY_AFTER)
        return response
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        codes = exc.get_codes()
        if isinstance(detail, dict):
            response.data = {"detail": _first_message(detail), "code": _first_code(codes), "errors": detail}
        else:
            response.data = {"detail": _first_message(detail), "code": _first_code(codes)}
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        if isinstance(detail, dict) and "detail" in detail:
            # simplejwt's InvalidToken and AuthenticationFailed carry {"detail", "code", "messages"}.
            message = str(detail["detail"])
            reasons = [str(m["message"]) for m in detail.get("messages") or [] if isinstance(m, dict) and m.get("message")]
            if reasons:  # e.g. "Token is expired": tells a client to refresh rather than log in
                message = f"{message}: {reasons[0]}"
            response.data = {"detail": message, "code": str(detail.get("code") or _first_code(exc.get_codes()))}
        else:
            response.data = {"detail": _first_message(detail), "code": _first_code(exc.get_codes())}
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            response["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
    elif isinstance(exc, Http404):
        response.data = {"detail": "Not found.", "code": "not_found"}
    elif isinstance(exc, PermissionDenied):
        response.data = {"detail": "You do not have permission to do this.", "code": "permission_denied"}
    return response


def _wants_json(request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def csrf_failure(request, reason=""):
    if _wants_json(request):
        return JsonResponse(
            {"detail": "CSRF check failed: send the csrftoken cookie's value in the X-CSRFToken header.", "code": "csrf_failed"},
            status=403,
        )
    return render(request, "errors/403_csrf.html", {"reason": reason}, status=403)


def page_not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    return render(request, "errors/404.html", status=404)


def server_error(request):
    if _wants_json(request):
        return JsonResponse({"detail": "Something went wrong on our side. Please try again.", "code": "server_error"}, status=500)
    return render(request, "errors/500.html", status=500)


def bad_request(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"detail": "The request was malformed.", "code": "bad_request"}, status=400)
    return render(request, "errors/400.html", status=400)


def permission_denied(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"detail": "You do not have permission to do this.", "code": "permission_denied"}, status=403)
    return render(request, "errors/403.html", status=403)

"""The account actions, shared by the API and the pages."""

from django.contrib.auth import authenticate, get_user_model, password_validation
from django.contrib.auth.models import update_last_login
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from sketchsite.exceptions import ServiceError

from . import sessions, tokens
from .models import AuthSession, normalise_email


class AccountError(ServiceError):
    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid", messages: list[str] | None = None):
        super().__init__(message, code, field=field, messages=messages)


class InvalidCredentials(AccountError):
    status = 401  # a challenge: the client may log in with other credentials


def register(*, email: str, password: str, display_name: str = ""):
    User = get_user_model()
    email = normalise_email(email)
    candidate = User(email=email, display_name=display_name)
    try:
        password_validation.validate_password(password, user=candidate)
    except ValidationError as exc:
        raise AccountError(exc.messages[0], field="password", code="weak_password", messages=list(exc.messages)) from None
    # This tells that the email has an account: accepted, because registering logs the new account
    # in at once (201 with cookies, the API's contract) and the service sends no mail, so the same
    # answer for a taken email would have to fake a login. Login never tells; register is braked
    # per IP and per email (accounts.throttles), and a guess at a free email creates that account.
    if User.objects.filter(email=email).exists():
        raise AccountError("An account with this email already exists.", field="email", code="email_taken")
    try:
        with transaction.atomic():
            return User.objects.create_user(email=email, password=password, display_name=display_name)
    except IntegrityError:  # lost a race with a concurrent registration of the same email
        raise AccountError("An account with this email already exists.", field="email", code="email_taken") from None


def log_in(*, email: str, password: str, request=None):
    user = authenticate(request, email=normalise_email(email), password=password)
    if user is None:
        raise InvalidCredentials("Email or password is incorrect.", code="invalid_credentials")
    update_last_login(None, user)  # what SIMPLE_JWT's UPDATE_LAST_LOGIN promises; its views are not used
    return user, tokens.issue_pair(user, user_agent=user_agent_of(request))


def user_agent_of(request) -> str:
    return request.META.get("HTTP_USER_AGENT", "") if request is not None else ""


def change_password(user, *, current_password: str, new_password: str, keep_session=None) -> None:
    """``keep_session``: the login that asked stays; every other one ends at once."""
    if not user.check_password(current_password):
        raise AccountError("The current password is incorrect.", field="current_password", code="wrong_password")
    try:
        password_validation.validate_password(new_password, user=user)
    except ValidationError as exc:
        raise AccountError(exc.messages[0], field="new_password", code="weak_password", messages=list(exc.messages)) from None
    user.set_password(new_password)
    user.save(update_fields=["password"])
    tokens.revoke_all(user, AuthSession.EndReason.PASSWORD, keep_session=keep_session)


def log_out(*, raw_refresh: str = "", raw_access: str = "", session_id=None) -> None:
    """End the login the tokens (or ``session_id``) belong to; other devices stay logged in."""
    if raw_refresh:
        tokens.revoke(raw_refresh)
    for found in (tokens.session_of(raw_access) if raw_access else None, session_id):
        if found is not None:
            sessions.end_one(found, AuthSession.EndReason.LOGOUT)


def update_profile(user, *, display_name: str) -> None:
    user.display_name = display_name.strip()
    user.save(update_fields=["display_name"])

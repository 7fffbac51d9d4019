"""Auth pages: plain forms that work without JavaScript and set the same cookies as the API."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout as django_logout
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.middleware.csrf import rotate_token
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from sketches.quota import usage as storage_usage

from . import services, tokens
from .forms import LoginForm, PasswordChangeForm, ProfileForm, RegisterForm
from .models import AuthSession
from .throttles import LOGIN_THROTTLES, REGISTER_THROTTLES, throttle_wait


def _safe_next(request) -> str:
    """A path on this site (or a URL of this host). A bare word ("id") is refused: it is neither,
    and django's ``redirect()`` would take it for a view name."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not target.startswith("/") and urlsplit(target).scheme not in ("http", "https"):
        return "/"
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return "/"


def _logged_in_redirect(request, pair: tokens.TokenPair):
    rotate_token(request)  # as django.contrib.auth.login does: a csrftoken planted before must not work after
    response = HttpResponseRedirect(_safe_next(request))
    tokens.set_auth_cookies(response, pair)
    return response


def _too_many(request, form, template, wait):
    form.add_error(None, f"Too many attempts. Please wait {int(wait) + 1} seconds and try again.")
    response = render(request, template, {"form": form, "next": _safe_next(request)}, status=429)
    response["Retry-After"] = str(int(wait) + 1)
    return response


@require_http_methods(["GET", "POST"])
def login_view(request):
    if request.user.is_authenticated and request.method == "GET":
        return HttpResponseRedirect(_safe_next(request))
    form = LoginForm(request.POST or None)
    if request.method == "POST":
        wait = throttle_wait(request, LOGIN_THROTTLES)
        if wait is not None:
            return _too_many(request, form, "accounts/login.html", wait)
        if form.is_valid():
            try:
                _, pair = services.log_in(**form.cleaned_data, request=request)
            except services.AccountError as error:
                form.add_error(None, str(error))
            else:
                return _logged_in_redirect(request, pair)
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/login.html", {"form": form, "next": _safe_next(request)}, status=status)


@require_http_methods(["GET", "POST"])
def register_view(request):
    if request.user.is_authenticated and request.method == "GET":
        return redirect("/")
    form = RegisterForm(request.POST or None)
    if request.method == "POST":
        wait = throttle_wait(request, REGISTER_THROTTLES)
        if wait is not None:
            return _too_many(request, form, "accounts/register.html", wait)
        if form.is_valid():
            try:
                user = services.register(**form.cleaned_data)
            except services.AccountError as error:
                for message in error.messages:
                    form.add_error(error.field if error.field in form.fields else None, message)
            else:
                return _logged_in_redirect(request, tokens.issue_pair(user, user_agent=services.user_agent_of(request)))
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/register.html", {"form": form, "next": _safe_next(request)}, status=status)


@require_POST
def logout_view(request):
    services.log_out(
        raw_refresh=request.COOKIES.get(settings.JWT_REFRESH_COOKIE, ""), session_id=getattr(request, "auth_session_id", None)
    )
    django_logout(request)
    response = redirect("/login/")
    tokens.clear_auth_cookies(response)
    return response


def admin_login_view(request):
    """The admin shares the site's login. A logged-in user without admin rights is refused here:
    sending them to /login/ would send them straight back to the admin, a redirect loop."""
    if request.user.is_authenticated:
        # An answer, not an exception: a refused visit is routine, not worth a logged traceback.
        return render(request, "admin/not_staff.html", status=403)
    query = request.META.get("QUERY_STRING", "")
    return redirect("/login/" + (f"?{query}" if query else ""))


@login_required
@require_http_methods(["GET", "POST"])
def account_view(request):
    profile = ProfileForm(initial={"display_name": request.user.display_name})
    password = PasswordChangeForm()
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "profile":
            profile = ProfileForm(request.POST)
            if profile.is_valid():
                services.update_profile(request.user, display_name=profile.cleaned_data["display_name"])
                messages.success(request, "Your display name was saved.")
                return redirect("account")
        elif action == "password":
            password = PasswordChangeForm(request.POST)
            if password.is_valid():
                try:
                    services.change_password(request.user, **password.cleaned_data, keep_session=request.auth_session_id)
                except services.AccountError as error:
                    for message in error.messages:
                        password.add_error(error.field if error.field in password.fields else None, message)
                else:
                    messages.success(request, "Your password was changed. Other devices were logged out.")
                    response = redirect("account")
                    session = AuthSession.objects.filter(pk=request.auth_session_id).first()
                    tokens.set_auth_cookies(response, tokens.issue_pair(request.user, session))
                    return response
        elif action == "logout_all":
            tokens.revoke_all(request.user)
            django_logout(request)
            response = redirect("/login/")
            tokens.clear_auth_cookies(response)
            return response
        status = 400
    context = {"profile_form": profile, "password_form": password, "storage": storage_usage(request.user)}
    return render(request, "accounts/account.html", context, status=status)

"""Form errors on the pages are tied to their fields and the first field in error takes the focus."""

import re

import pytest
from django.test import Client

from accounts.tokens import issue_pair

from .conftest import STRONG_PASSWORD

pytestmark = pytest.mark.django_db


def inputs(html: str) -> dict[str, str]:
    """Each input's tag by its name."""
    tags = re.findall(r"<input[^>]*>", html)
    return {name.group(1): tag for tag in tags if (name := re.search(r'name="([^"]+)"', tag))}


def test_register_error_is_described_and_focused():
    response = Client().post("/register/", {"email": "not-an-email", "display_name": "Ada", "password": STRONG_PASSWORD})
    assert response.status_code == 400
    html = response.content.decode()
    fields = inputs(html)
    assert 'aria-describedby="id_email_error"' in fields["email"] and 'aria-invalid="true"' in fields["email"]
    assert "autofocus" in fields["email"]
    assert re.search(r'<div class="field-errors" id="id_email_error"[^>]*><p class="field-error">Enter a valid email', html)
    assert "autofocus" not in fields["password"] and "aria-invalid" not in fields["password"]


def test_focus_moves_to_a_later_field_in_error():
    response = Client().post("/register/", {"email": "fine@example.com", "password": "123"})
    assert response.status_code == 400
    fields = inputs(response.content.decode())
    assert "autofocus" not in fields["email"]
    assert "autofocus" in fields["password"]
    # Help and error both describe the field, help first.
    assert 'aria-describedby="id_password_helptext id_password_error"' in fields["password"]


def test_login_with_a_wrong_password_focuses_the_first_field(user):
    response = Client().post("/login/", {"email": user.email, "password": "wrong-password-123"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="form-error"' in html
    fields = inputs(html)
    assert "autofocus" in fields["email"] and "autofocus" not in fields["password"]


def test_account_password_error_is_described_and_focused(user):
    client = Client()
    pair = issue_pair(user)
    client.cookies["access_token"], client.cookies["refresh_token"] = pair.access, pair.refresh
    response = client.post(
        "/account/", {"action": "password", "current_password": "not-my-password", "new_password": STRONG_PASSWORD + "x"}
    )
    assert response.status_code == 400
    fields = inputs(response.content.decode())
    assert "autofocus" in fields["current_password"]
    assert 'aria-describedby="id_current_password_error"' in fields["current_password"]
    assert "autofocus" not in fields["display_name"] and "aria-invalid" not in fields["display_name"]

"""Hand-made and replayed JWTs: algorithm confusion, ``none``, wrong key, wrong type, expired, rotated, revoked.

Every bad token is refused with 401 both as ``Authorization: Bearer`` and as the access cookie,
and never shows a page as logged in.
"""

import functools
import hashlib
import hmac
import time
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client
from rest_framework.test import APIClient

from accounts.tokens import issue_pair

from .conftest import assert_json_error, b64url, claims, signed, unsigned, with_header

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")]

ME = "/api/auth/me"
REFRESH = "/api/auth/refresh"


@functools.cache
def _rsa_private_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def hs256_by_hand(payload: dict, key: bytes) -> str:
    """PyJWT refuses an empty HMAC key; a forger would not."""
    signing_input = f"{b64url({'alg': 'HS256', 'typ': 'JWT'})}.{b64url(payload)}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def forged_access_tokens(user) -> dict:
    """kind -> a function making that token (only the one a test needs is built: RSA signing is slow)."""
    from django.conf import settings

    good = issue_pair(user)
    secret = settings.SIMPLE_JWT["SIGNING_KEY"]
    return {
        "alg_none": lambda: unsigned(claims(user.pk)),
        "alg_None": lambda: unsigned(claims(user.pk), alg="None"),
        "alg_NONE": lambda: unsigned(claims(user.pk), alg="NONE"),
        "alg_none_with_real_signature": lambda: with_header(good.access, alg="none"),
        "hs256_wrong_key": lambda: signed(claims(user.pk), key="attacker-chosen-secret-0123456789-abcdefghijklmnop"),
        "hs256_empty_key": lambda: hs256_by_hand(claims(user.pk), key=b""),
        # Header says RS256: signed with the attacker's own RSA key...
        "rs256_attacker_key": lambda: signed(claims(user.pk), key=_rsa_private_pem(), algorithm="RS256"),
        # ... or the real HMAC signature relabelled as RS256 (a verifier that trusts the header must not accept it).
        "rs256_header_hmac_signature": lambda: with_header(good.access, alg="RS256"),
        "hs512_real_key": lambda: signed(claims(user.pk), key=secret, algorithm="HS512"),
        "refresh_as_access": lambda: good.refresh,
        "token_type_missing": lambda: signed({k: v for k, v in claims(user.pk).items() if k != "token_type"}),
        "exp_missing": lambda: signed({k: v for k, v in claims(user.pk).items() if k != "exp"}),
        "jti_missing": lambda: signed({k: v for k, v in claims(user.pk).items() if k != "jti"}),
        "expired": lambda: signed(claims(user.pk, exp_delta=-120)),
        "signature_stripped": lambda: good.access.rsplit(".", 1)[0] + ".",
        "payload_swapped": lambda: ".".join(
            [good.access.split(".")[0], signed(claims(user.pk + 1000)).split(".")[1], good.access.split(".")[2]]
        ),
        "kid_injection": lambda: signed(claims(user.pk), key="x" * 40, headers={"kid": "../../../../dev/null"}),
        "jwk_embedded": lambda: signed(
            claims(user.pk), key=_rsa_private_pem(), algorithm="RS256", headers={"jwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}}
        ),
    }


def forged(user, kind) -> str:
    return forged_access_tokens(user)[kind]()


KINDS = [
    "alg_none",
    "alg_None",
    "alg_NONE",
    "alg_none_with_real_signature",
    "hs256_wrong_key",
    "hs256_empty_key",
    "rs256_attacker_key",
    "rs256_header_hmac_signature",
    "hs512_real_key",
    "refresh_as_access",
    "token_type_missing",
    "exp_missing",
    "jti_missing",
    "expired",
    "signature_stripped",
    "payload_swapped",
    "kid_injection",
    "jwk_embedded",
]


def test_every_kind_is_built(user):
    tokens = forged_access_tokens(user)
    assert sorted(tokens) == sorted(KINDS)
    assert all(isinstance(make(), str) for make in tokens.values())


def test_control_a_real_access_token_works(user):
    token = issue_pair(user).access
    assert APIClient().get(ME, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    client = APIClient()
    client.cookies["access_token"] = token
    assert client.get(ME).status_code == 200


@pytest.mark.parametrize("kind", KINDS)
def test_forged_bearer_token_is_401(user, kind):
    token = forged(user, kind)
    response = APIClient().get(ME, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert_json_error(response, 401)
    assert response.has_header("WWW-Authenticate")


@pytest.mark.parametrize("kind", KINDS)
def test_forged_cookie_token_is_401(user, kind):
    client = APIClient()
    client.cookies["access_token"] = forged(user, kind)
    assert_json_error(client.get(ME), 401)


@pytest.mark.parametrize("kind", ["alg_none", "rs256_attacker_key", "refresh_as_access", "expired"])
def test_forged_cookie_does_not_log_into_the_pages(user, kind):
    client = Client()
    client.cookies["access_token"] = forged(user, kind)
    response = client.get("/account/")
    assert response.status_code == 302 and response["Location"].startswith("/login/"), response.status_code


# ----------------------------------------------------------------------------- refresh tokens
def refresh_with(token: str):
    return APIClient().post(REFRESH, {"refresh": token}, format="json")


def test_access_token_is_not_a_refresh_token(user):
    assert_json_error(refresh_with(issue_pair(user).access), 401, "token_not_valid")


@pytest.mark.parametrize(
    "make",
    [
        lambda u: unsigned(claims(u.pk, token_type="refresh", exp_delta=3600)),
        lambda u: signed(
            claims(u.pk, token_type="refresh", exp_delta=3600), key="attacker-chosen-secret-0123456789-abcdefghijklmnop"
        ),
        lambda u: signed(claims(u.pk, token_type="refresh", exp_delta=-60)),
        # Well signed but never issued (no outstanding row): the server does not know its jti.
        lambda u: signed(claims(u.pk, token_type="refresh", exp_delta=3600)),
    ],
    ids=["alg_none", "wrong_key", "expired", "never_issued"],
)
def test_forged_refresh_token_is_401(user, make):
    assert_json_error(refresh_with(make(user)), 401, "token_not_valid")


def test_rotated_refresh_token_is_good_once(user):
    old = issue_pair(user).refresh
    first = refresh_with(old)
    assert first.status_code == 200, first.content
    assert_json_error(refresh_with(old), 401, "token_not_valid")
    # The new one works (rotation, not lock-out).
    assert refresh_with(first.cookies["refresh_token"].value).status_code == 200


def test_rotated_refresh_cookie_is_good_once(user):
    client = APIClient()  # CSRF is tested elsewhere; this is about the token itself
    client.cookies["refresh_token"] = issue_pair(user).refresh
    stale = client.cookies["refresh_token"].value
    assert client.post(REFRESH).status_code == 200
    replay = APIClient()
    replay.cookies["refresh_token"] = stale
    assert_json_error(replay.post(REFRESH), 401, "token_not_valid")


def test_logged_out_refresh_token_is_blacklisted(user):
    pair = issue_pair(user)
    response = APIClient().post("/api/auth/logout", {"refresh": pair.refresh}, format="json")
    assert response.status_code == 204
    assert_json_error(refresh_with(pair.refresh), 401, "token_not_valid")


def test_logout_everywhere_blacklists_every_refresh_token(user):
    pairs = [issue_pair(user) for _ in range(3)]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pairs[0].access}")
    assert client.post("/api/auth/logout-all").status_code == 204
    for pair in pairs:
        assert_json_error(refresh_with(pair.refresh), 401, "token_not_valid")


def test_password_change_revokes_other_refresh_tokens(user):
    other_device = issue_pair(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_pair(user).access}")
    response = client.post(
        "/api/auth/password", {"current_password": user.raw_password, "new_password": "brand-new-Pass-7351"}, format="json"
    )
    assert response.status_code == 204, response.content
    assert_json_error(refresh_with(other_device.refresh), 401, "token_not_valid")


def test_tokens_of_a_disabled_user_are_refused(user):
    pair = issue_pair(user)
    user.is_active = False
    user.save()
    assert_json_error(APIClient().get(ME, HTTP_AUTHORIZATION=f"Bearer {pair.access}"), 401)
    assert_json_error(refresh_with(pair.refresh), 401, "token_not_valid")


def test_tokens_of_a_deleted_user_are_refused(make_user):
    doomed = make_user()
    pair = issue_pair(doomed)
    doomed.delete()
    assert_json_error(APIClient().get(ME, HTTP_AUTHORIZATION=f"Bearer {pair.access}"), 401)
    assert_json_error(refresh_with(pair.refresh), 401, "token_not_valid")


def test_access_token_expires(user, settings):
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.sessions import open_session

    token = AccessToken.for_user(user)
    token["sid"] = open_session(user).pk.hex  # valid in every way but its age
    token.set_exp(lifetime=-timedelta(seconds=settings.SIMPLE_JWT["LEEWAY"] + 2))
    assert_json_error(APIClient().get(ME, HTTP_AUTHORIZATION=f"Bearer {token}"), 401)
    assert time.time() > token["exp"]

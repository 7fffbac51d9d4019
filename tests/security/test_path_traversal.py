"""Path traversal and odd characters in keys: ``download-url/{key}``, ``task/{id}``, ``sketch/{id}`` and ``/files/<key>``.

The API answers 404 JSON (never 500) for anything that is not a key the user owns, and the
local file view never serves a byte from outside MEDIA_ROOT, even with a validly signed token.
"""

import os

import pytest
from django.core import signing

from sketches.storage import DOWNLOAD_SALT

from .conftest import assert_json_error, bearer_client

pytestmark = pytest.mark.django_db

SECRET = b"TOP-SECRET-OUTSIDE-MEDIA-ROOT"

# Raw path suffixes, sent as they are (already percent-encoded where it says so).
ODD_KEYS = {
    "dotdot": "../../../../etc/passwd",
    "dotdot_inside_prefix": "uploads/1/../../../../etc/passwd",
    "encoded_dots": "%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "encoded_slashes": "..%2f..%2f..%2fetc%2fpasswd",
    "double_encoded": "%252e%252e%252f%252e%252e%252fetc%252fpasswd",
    "backslashes": "..\\..\\..\\etc\\passwd",
    "encoded_backslashes": "..%5c..%5cetc%5cpasswd",
    "absolute": "/etc/passwd",
    "double_slash": "uploads//1//x.png",
    "control_chars": "uploads/1/%01%02%1b%7f.png",
    "crlf": "uploads/1/x.png%0d%0aSet-Cookie:%20x=1",
    "unicode": "uploads/1/%E2%80%AEgnp.exe",
    "unicode_dots": "%EF%BC%8E%EF%BC%8E/%EF%BC%8E%EF%BC%8E/etc/passwd",  # fullwidth dots
    "overlong_utf8": "%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
    "invalid_utf8": "uploads/1/%ff%fe.png",
    "very_long": "a" * 5000,
    "very_long_path": "/".join(["uploads"] * 800),
    "sql_like": "uploads/1/x.png' OR '1'='1",
    "wildcards": "uploads/%25/%25",
    "dot": ".",
    "space": "%20",
}


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/api/upload/download-url/uploads/1/x.png%00.jpg", id="download-url-nul-inside"),
        pytest.param("/api/upload/download-url/%00", id="download-url-nul-only"),
        pytest.param("/api/sketch/task/%00", id="task-nul-only"),
        pytest.param("/api/sketch/task/abc%00def", id="task-nul-inside"),
        pytest.param("/api/sketch/abc%00def", id="sketch-nul"),  # checked as a UUID first
        pytest.param("/files/uploads/1/x.png%00.jpg?token=x", id="files-nul"),
    ],
)
def test_nul_bytes_in_ids_are_404_not_500(user, path):
    client = bearer_client(user)
    client.raise_request_exception = False  # look at the response a real client would get
    response = client.get(path)
    assert response.status_code in (403, 404), (response.status_code, response.content[:200])


@pytest.fixture
def outside_file(tmp_path, settings):
    """A file next to MEDIA_ROOT (not inside it) that must never be served."""
    path = tmp_path / "secret.txt"
    path.write_bytes(SECRET)
    (tmp_path / "media-evil").mkdir()
    (tmp_path / "media-evil" / "secret.txt").write_bytes(SECRET)  # a sibling sharing MEDIA_ROOT's name as a prefix
    return path


@pytest.mark.parametrize("name", list(ODD_KEYS))
def test_download_url_of_odd_key_is_404_json(user, name):
    response = bearer_client(user).get(f"/api/upload/download-url/{ODD_KEYS[name]}")
    assert_json_error(response, 404, "not_found")


@pytest.mark.parametrize("name", list(ODD_KEYS))
def test_task_and_sketch_routes_with_odd_ids_are_404_json(user, name):
    client = bearer_client(user)
    for prefix in ("/api/sketch/task/", "/api/sketch/"):
        response = client.get(prefix + ODD_KEYS[name])
        assert response.status_code in (404, 405), (prefix, response.status_code, response.content[:200])
        assert response.status_code != 500
        assert response["Content-Type"].startswith("application/json"), (prefix, response["Content-Type"])


@pytest.mark.parametrize("name", list(ODD_KEYS))
def test_files_view_with_odd_key_and_no_token_is_refused(client, name):
    response = client.get(f"/files/{ODD_KEYS[name]}?token=x")
    assert response.status_code in (403, 404), (response.status_code, response.content[:200])


@pytest.mark.parametrize(
    "key",
    [
        "../secret.txt",
        "uploads/../../secret.txt",
        "../media-evil/secret.txt",
        "/{outside}",
        "uploads/link/secret.txt",  # a symlink inside MEDIA_ROOT pointing out of it
    ],
)
def test_files_view_never_serves_outside_media_root_even_with_a_signed_token(client, settings, outside_file, key):
    """Tokens are only minted for keys of database rows; this is the second line of defence."""
    link_dir = settings.MEDIA_ROOT / "uploads" / "link"
    link_dir.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(outside_file.parent, link_dir)
    key = key.format(outside=str(outside_file).lstrip("/"))
    token = signing.dumps({"key": key, "filename": "x.txt"}, salt=DOWNLOAD_SALT, compress=True)
    response = client.get(f"/files/{key}", {"token": token})
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert SECRET not in body
    assert response.status_code in (400, 403, 404), response.status_code


def test_files_view_serves_a_real_key_as_attachment(client, user, owned):
    """The control: a minted link to a key inside MEDIA_ROOT works, as an attachment that is not sniffed."""
    upload, _ = owned(user)
    url = bearer_client(user).get(f"/api/upload/download-url/{upload.key}").json()["url"]
    response = client.get(url.split("testserver", 1)[-1] if "testserver" in url else url[url.index("/files/") :])
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("filename", ['evil".html', "a\r\nSet-Cookie: x=1", "../../etc/passwd", "\u202egnp.exe"])
def test_download_file_name_cannot_break_the_header(client, user, owned, filename):
    """The original file name comes from the client: it must not split headers or pick a path."""
    upload, _ = owned(user)
    upload.original_name = filename
    upload.save()
    url = bearer_client(user).get(f"/api/upload/download-url/{upload.key}").json()["url"]
    response = client.get(url[url.index("/files/") :])
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition
    assert not response.has_header("Set-Cookie") or "x=1" not in response["Set-Cookie"]
    ascii_part = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert '"' not in ascii_part and "\\" not in ascii_part

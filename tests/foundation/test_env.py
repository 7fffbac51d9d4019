"""sketchsite/env.py on its own: the formats existing ``.env`` files use."""

import json

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from sketchsite.env import (
    SettingError,
    get_bool,
    get_int,
    get_list,
    get_str,
    load_dotenv_file,
    normalise_database_url,
    parse_list,
)


# ----------------------------------------------------------------------------- lists
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('["http://localhost:3000","https://app.example"]', ["http://localhost:3000", "https://app.example"]),
        ('[ "http://localhost:3000" , "https://app.example" ]', ["http://localhost:3000", "https://app.example"]),
        ("http://localhost:3000,https://app.example", ["http://localhost:3000", "https://app.example"]),
        (" http://localhost:3000 , https://app.example ,", ["http://localhost:3000", "https://app.example"]),
        ("'image/jpeg', \"image/png\"", ["image/jpeg", "image/png"]),
        ("image/jpeg", ["image/jpeg"]),
        ("[]", []),
        ('["a", "", "  "]', ["a"]),
        ("[::1],localhost", ["[::1]", "localhost"]),
        ("[::1]", ["[::1]"]),
        ("localhost,[::1]", ["localhost", "[::1]"]),
    ],
)
def test_parse_list_forms(raw, expected):
    assert parse_list(raw, "X") == expected


@pytest.mark.parametrize("raw", ['["a", "b"', '["a", 1]', "[1, 2]", '[{"a": "b"}]', '["a",]'])
def test_parse_list_rejects_broken_json_with_the_name(raw):
    with pytest.raises(SettingError, match="ALLOWED_ORIGINS"):
        parse_list(raw, "ALLOWED_ORIGINS")


_ITEM = st.text(
    alphabet=st.characters(blacklist_characters=",\"'[]\\", blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30
)


@given(st.lists(_ITEM, max_size=8))
@example(["http://localhost:3000", "https://app.example"])
@example(["image/jpeg", " image/png "])
def test_json_and_comma_forms_agree(items):
    expected = [item.strip() for item in items if item.strip()]
    assert parse_list(json.dumps(items)) == expected
    assert parse_list(json.dumps(items, ensure_ascii=False)) == expected
    assert parse_list(",".join(items)) == expected
    assert parse_list(", ".join(items)) == expected


@given(st.lists(_ITEM, min_size=1, max_size=8))
def test_round_trip_through_the_comma_form(items):
    once = parse_list(json.dumps(items))
    assert parse_list(",".join(once)) == once


def test_get_list_default_and_empty():
    assert get_list({}, "X", ["d"]) == ["d"]
    assert get_list({"X": "   "}, "X", ["d"]) == ["d"]
    default = ["d"]
    result = get_list({}, "X", default)
    result.append("changed")
    assert default == ["d"]  # a copy, never the default itself


# ----------------------------------------------------------------------------- scalars
@pytest.mark.parametrize("word", ["1", "true", "True", "YES", "on", " true "])
def test_true_words(word):
    assert get_bool({"DEBUG": word}, "DEBUG") is True


@pytest.mark.parametrize("word", ["0", "false", "False", "no", "OFF", ""])
def test_false_words(word):
    assert get_bool({"DEBUG": word}, "DEBUG", default=True) is False


def test_bool_default_and_error():
    assert get_bool({}, "DEBUG", default=True) is True
    with pytest.raises(SettingError, match="DEBUG must be true or false"):
        get_bool({"DEBUG": "maybe"}, "DEBUG")


def test_int_parsing():
    assert get_int({"N": " 42 "}, "N", 1) == 42
    assert get_int({"N": ""}, "N", 7) == 7
    assert get_int({}, "N", 7) == 7
    with pytest.raises(SettingError, match="N must be a whole number"):
        get_int({"N": "4.5"}, "N", 1)
    with pytest.raises(SettingError, match="N must be at least 5"):
        get_int({"N": "3"}, "N", 10, minimum=5)


def test_str_strips_and_defaults():
    assert get_str({"A": "  x  "}, "A", "d") == "x"
    assert get_str({}, "A", "d") == "d"


# ----------------------------------------------------------------------------- database URL
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("postgresql+asyncpg://u:p@db:5432/app", "postgresql://u:p@db:5432/app"),
        ("postgresql+psycopg2://u:p@db/app", "postgresql://u:p@db/app"),
        ("postgres://u:p@db/app", "postgresql://u:p@db/app"),
        ("POSTGRESQL+ASYNCPG://u:p@db/app", "POSTGRESQL://u:p@db/app"),
        ("  postgresql://u:p@db/app  ", "postgresql://u:p@db/app"),
        ("sqlite+aiosqlite:///./app.db", "sqlite:///./app.db"),
        ("mysql+pymysql://u:p@db/app", "mysql://u:p@db/app"),
        ("postgresql://u:p+x@db/app", "postgresql://u:p+x@db/app"),  # a '+' in the password stays
        ("", ""),
    ],
)
def test_normalise_database_url(raw, expected):
    assert normalise_database_url(raw) == expected


def test_normalised_url_is_understood_by_dj_database_url():
    import dj_database_url

    config = dj_database_url.parse(normalise_database_url("postgresql+asyncpg://sketch:s3cret@db.example:6543/sketches"))
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["USER"], config["PASSWORD"], config["HOST"], config["PORT"]) == (
        "sketches",
        "sketch",
        "s3cret",
        "db.example",
        6543,
    )


# ----------------------------------------------------------------------------- .env files
def test_dotenv_never_overrides_the_process_environment(tmp_path):
    path = tmp_path / ".env"
    path.write_text('DEBUG=true\nAPP_NAME="Image to Sketch"\nEMPTY=\n# comment\nexport EXPORTED=yes\n')
    environ = {"DEBUG": "false"}
    load_dotenv_file(str(path), environ)
    assert environ == {"DEBUG": "false", "APP_NAME": "Image to Sketch", "EMPTY": "", "EXPORTED": "yes"}


def test_missing_dotenv_is_fine(tmp_path):
    environ = {}
    load_dotenv_file(str(tmp_path / "nope.env"), environ)
    assert environ == {}

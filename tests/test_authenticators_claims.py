"""JWT claim types and ranges, judged before SimpleJWT does arithmetic with them."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from channels_warden.authenticators.claims import (
    MAX_NUMERIC_DATE,
    check_audience,
    check_claims,
    check_numeric_date,
    check_string,
    unverified_payload,
)
from channels_warden.exceptions import AuthenticationFailed


def segment(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact(payload: bytes, header: bytes = b'{"alg":"HS256"}') -> str:
    return f"{segment(header)}.{segment(payload)}.c2ln"


def refusal_detail(check: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(AuthenticationFailed) as exc_info:
        check(*args, **kwargs)
    return exc_info.value.detail


def test_unverified_payload_parses_the_middle_segment() -> None:
    """The payload segment is base64url JSON and comes back as a dict."""
    assert unverified_payload(compact(b'{"exp": 1}')) == {"exp": 1}


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        ("abc", "JWT has 1 segments, not 3"),
        ("a.b.c.d", "JWT has 4 segments, not 3"),
        (compact(b"{not json"), "JWT payload is not base64url-encoded JSON"),
        (compact(b'{"exp": NaN}'), "JWT payload is not base64url-encoded JSON"),
        (compact(b'{"exp": Infinity}'), "JWT payload is not base64url-encoded JSON"),
        (compact(b'{"exp": 1' + b"0" * 5000 + b"}"), "JWT payload is not base64url-encoded JSON"),
        (compact(b"\xff\xfe"), "JWT payload is not base64url-encoded JSON"),
        (compact(b"{}", header=b"[" * 5000), "JWT header is not base64url-encoded JSON"),
        (compact(b"[1]"), "JWT header or payload is not a JSON object"),
        (compact(b"{}", header=b'"x"'), "JWT header or payload is not a JSON object"),
    ],
)
def test_unverified_payload_refuses_what_is_not_a_jwt(raw: str, detail: str) -> None:
    """Wrong segment counts, bad JSON, JSON constants, huge integers and deep nesting are 4401."""
    assert refusal_detail(unverified_payload, raw) == detail


@pytest.mark.parametrize("value", [0, 1, 1_800_000_000, 1_800_000_000.5, MAX_NUMERIC_DATE])
def test_numeric_date_in_range_passes(value: float) -> None:
    """Integers and finite floats between 1970 and the year 9999 are NumericDates."""
    check_numeric_date("exp", value)


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ("1800000000", "JWT claim 'exp' has type str, not a number"),
        (True, "JWT claim 'exp' has type bool, not a number"),
        (None, "JWT claim 'exp' has type NoneType, not a number"),
        ([1], "JWT claim 'exp' has type list, not a number"),
        ({"t": 1}, "JWT claim 'exp' has type dict, not a number"),
        (float("inf"), "JWT claim 'exp' is not finite"),
        (float("nan"), "JWT claim 'exp' is not finite"),
        (MAX_NUMERIC_DATE + 1, "JWT claim 'exp' is outside 1970..9999"),
        (10**30, "JWT claim 'exp' is outside 1970..9999"),
        (1e300, "JWT claim 'exp' is outside 1970..9999"),
        (-1, "JWT claim 'exp' is outside 1970..9999"),
    ],
)
def test_numeric_date_of_wrong_type_or_range_is_refused(value: object, detail: str) -> None:
    """Strings, booleans, null, containers, non-finite and out-of-range numbers are 4401."""
    assert refusal_detail(check_numeric_date, "exp", value) == detail


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        (1, "JWT claim 'jti' has type int, not a string"),
        (None, "JWT claim 'jti' has type NoneType, not a string"),
        (["a"], "JWT claim 'jti' has type list, not a string"),
        ("", "JWT claim 'jti' is empty or over 255 characters"),
        ("a" * 256, "JWT claim 'jti' is empty or over 255 characters"),
    ],
)
def test_string_claim_of_wrong_type_or_length_is_refused(value: object, detail: str) -> None:
    """A string claim must be a non-empty string of at most 255 characters."""
    assert refusal_detail(check_string, "jti", value) == detail


@pytest.mark.parametrize("value", ["api", ["api"], ["api", "web"]])
def test_audience_string_or_list_of_strings_passes(value: object) -> None:
    """``aud`` may be one string or a list of strings (RFC 7519 section 4.1.3)."""
    check_audience(value)


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ([], "JWT claim 'aud' lists 0 or over 32 audiences"),
        (["a"] * 33, "JWT claim 'aud' lists 0 or over 32 audiences"),
        ([1], "JWT claim 'aud' has type int, not a string"),
        ({"a": 1}, "JWT claim 'aud' has type dict, not a string"),
        (None, "JWT claim 'aud' has type NoneType, not a string"),
    ],
)
def test_audience_of_wrong_shape_is_refused(value: object, detail: str) -> None:
    """Empty or oversized lists and non-strings are refused."""
    assert refusal_detail(check_audience, value) == detail


def test_check_claims_leaves_absent_claims_to_simplejwt() -> None:
    """A payload without registered claims passes; SimpleJWT decides what is required."""
    check_claims({"user_id": "1"}, string_claims=("jti", "token_type"))


def test_check_claims_skips_disabled_string_claims() -> None:
    """A ``None`` entry (JTI_CLAIM disabled) checks nothing."""
    check_claims({"jti": 5}, string_claims=(None,))


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        ({"nbf": "1"}, "JWT claim 'nbf' has type str, not a number"),
        ({"iat": 10**30}, "JWT claim 'iat' is outside 1970..9999"),
        ({"iss": ["x"]}, "JWT claim 'iss' has type list, not a string"),
        ({"token_type": 1}, "JWT claim 'token_type' has type int, not a string"),
        ({"aud": 1}, "JWT claim 'aud' has type int, not a string"),
    ],
)
def test_check_claims_checks_each_registered_claim(payload: dict[str, Any], detail: str) -> None:
    """Each of nbf, iat, iss, the configured string claims and aud is checked."""
    assert refusal_detail(check_claims, payload, string_claims=("jti", "token_type")) == detail


def test_payload_json_round_trip_keeps_big_floats() -> None:
    """A float NumericDate survives the strict parser (the parser only refuses NaN and Infinity)."""
    assert unverified_payload(compact(json.dumps({"exp": 1.5e9}).encode())) == {"exp": 1.5e9}


@pytest.mark.parametrize(
    "data",
    [
        b'{"a": 1}',
        '{"a": "\u00e9"}'.encode("utf-16"),
        '{"a": 1}'.encode("utf-32-le"),
        b'\xef\xbb\xbf{"a": 1}',
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b'{"a": 1',
        b"\xff\xfe\x00",
        b'{"a": "\xed\xa0\x80"}',
        b"",
        b"[" * 50 + b"]" * 50,
    ],
)
def test_strict_json_is_json_loads_with_constants_refused(data: bytes) -> None:
    """The shared decoder decides as ``json.loads(data, parse_constant=...)`` does, error type included."""
    from channels_warden.authenticators.claims import _refuse_constant, strict_json

    def outcome(parse: Any) -> Any:
        try:
            return ("ok", parse(data))
        except ValueError as exc:
            return ("error", type(exc))

    assert outcome(strict_json) == outcome(lambda raw: json.loads(raw, parse_constant=_refuse_constant))

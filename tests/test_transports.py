"""Transports as pure functions of hand-built scopes: find, redact, accept_subprotocol."""

from __future__ import annotations

from typing import Any

import pytest

from channels_warden.credentials import Credential
from channels_warden.exceptions import BadRequest
from channels_warden.transports import (
    MAX_COOKIE_HEADER_BYTES,
    AuthorizationHeaderTransport,
    CookieTransport,
    QueryStringTransport,
    RawJWTSubprotocolTransport,
    SessionCookieTransport,
    SubprotocolTransport,
    Transport,
    header_values,
    query_parameter,
)
from tests.inprocess import jwt_shaped

MAX = 8192
JWT = jwt_shaped(b"signature")


def ws_scope(
    headers: list[tuple[bytes, bytes]] | None = None,
    subprotocols: list[str] | None = None,
    query_string: bytes = b"",
) -> dict[str, Any]:
    """A websocket scope as an ASGI server builds it."""
    return {
        "type": "websocket",
        "path": "/ws/",
        "headers": [(b"host", b"testserver"), *(headers or [])],
        "subprotocols": subprotocols or [],
        "query_string": query_string,
    }


# -- helpers and the base class --------------------------------------------------------------------


def test_header_values_returns_every_value_of_one_header() -> None:
    """Repeated headers are all returned, in order."""
    scope = ws_scope([(b"x-a", b"1"), (b"x-b", b"2"), (b"x-a", b"3")])
    assert header_values(scope, b"x-a") == [b"1", b"3"]


def test_header_values_of_a_scope_without_headers_is_empty() -> None:
    """A scope with no headers key has no header values."""
    assert header_values({"type": "websocket"}, b"cookie") == []


def test_base_transport_find_is_abstract() -> None:
    """A transport must implement find."""
    with pytest.raises(NotImplementedError):
        Transport().find(ws_scope(), max_bytes=MAX)


def test_base_transport_redacts_nothing_and_echoes_nothing() -> None:
    """The base class leaves the scope alone and asks for no subprotocol."""
    scope = ws_scope([(b"authorization", b"Bearer abc")])
    Transport().redact(scope)
    assert (scope["headers"], Transport().accept_subprotocol(scope)) == (
        [(b"host", b"testserver"), (b"authorization", b"Bearer abc")],
        None,
    )


# -- Authorization header --------------------------------------------------------------------------


def test_header_finds_a_bearer_token() -> None:
    """Authorization: Bearer <token> is a bearer credential from the header transport."""
    scope = ws_scope([(b"authorization", f"Bearer {JWT}".encode())])
    assert AuthorizationHeaderTransport().find(scope, max_bytes=MAX) == Credential("bearer", JWT, "header")


def test_header_finds_a_drf_token() -> None:
    """Authorization: Token <key> is a token credential."""
    scope = ws_scope([(b"authorization", b"Token 9944b09199c62bcf9418ad846dd0e4bb")])
    assert AuthorizationHeaderTransport().find(scope, max_bytes=MAX) == Credential(
        "token", "9944b09199c62bcf9418ad846dd0e4bb", "header"
    )


@pytest.mark.parametrize("keyword", [b"bearer", b"BEARER", b"bEaReR"])
def test_header_keyword_is_case_insensitive(keyword: bytes) -> None:
    """The keyword matches in any case, as HTTP auth schemes do."""
    scope = ws_scope([(b"authorization", keyword + b" abcdef")])
    assert AuthorizationHeaderTransport().find(scope, max_bytes=MAX) == Credential(
        "bearer", "abcdef", "header"
    )


def test_header_absent_is_none() -> None:
    """No Authorization header, no credential."""
    assert AuthorizationHeaderTransport().find(ws_scope(), max_bytes=MAX) is None


def test_header_unknown_keyword_is_a_bad_request() -> None:
    """A keyword nobody configured is refused rather than ignored."""
    scope = ws_scope([(b"authorization", b"Basic YWxpY2U6cHc=")])
    with pytest.raises(BadRequest) as exc_info:
        AuthorizationHeaderTransport().find(scope, max_bytes=MAX)
    assert exc_info.value.detail == "Authorization header uses an unknown keyword"


def test_header_duplicates_are_a_bad_request() -> None:
    """Two Authorization headers are ambiguous: refused."""
    scope = ws_scope([(b"authorization", b"Bearer aaaa"), (b"authorization", b"Bearer bbbb")])
    with pytest.raises(BadRequest) as exc_info:
        AuthorizationHeaderTransport().find(scope, max_bytes=MAX)
    assert exc_info.value.detail == "more than one Authorization header"


@pytest.mark.parametrize("value", [b"Bearer", b"Bearer ", b""])
def test_header_without_a_token_is_a_bad_request(value: bytes) -> None:
    """A keyword with nothing after it is not '<keyword> <token>'."""
    scope = ws_scope([(b"authorization", value)])
    with pytest.raises(BadRequest) as exc_info:
        AuthorizationHeaderTransport().find(scope, max_bytes=MAX)
    assert exc_info.value.detail == "Authorization header is not '<keyword> <token>'"


def test_header_token_with_a_space_is_a_bad_request() -> None:
    """Anything after the first space must be one token."""
    scope = ws_scope([(b"authorization", b"Bearer abc def")])
    with pytest.raises(BadRequest) as exc_info:
        AuthorizationHeaderTransport().find(scope, max_bytes=MAX)
    assert exc_info.value.detail == (
        "Authorization token contains characters no token has (space, control, non-ASCII)"
    )


def test_header_custom_keywords_map_to_schemes() -> None:
    """Configured keywords replace the defaults and map to lower-case schemes."""
    transport = AuthorizationHeaderTransport(keywords={"ApiKey": "APIKEY"})
    scope = ws_scope([(b"authorization", b"apikey k-123")])
    assert transport.find(scope, max_bytes=MAX) == Credential("apikey", "k-123", "header")


def test_header_custom_keywords_drop_the_defaults() -> None:
    """With custom keywords, 'Bearer' is no longer known."""
    transport = AuthorizationHeaderTransport(keywords={"ApiKey": "apikey"})
    scope = ws_scope([(b"authorization", b"Bearer abc")])
    with pytest.raises(BadRequest):
        transport.find(scope, max_bytes=MAX)


def test_header_redact_removes_every_authorization_header() -> None:
    """The application's scope keeps every other header, in order."""
    scope = ws_scope([(b"authorization", b"Bearer abc"), (b"x-trace", b"1"), (b"authorization", b"x")])
    AuthorizationHeaderTransport().redact(scope)
    assert scope["headers"] == [(b"host", b"testserver"), (b"x-trace", b"1")]


def test_header_redact_removes_basic_credentials_too_and_copies_only_when_needed() -> None:
    """Any Authorization header goes, even one warden did not judge; without one, nothing is copied."""
    basic = ws_scope([(b"authorization", b"Basic YWxpY2U6c2VjcmV0")])
    AuthorizationHeaderTransport().redact(basic)
    plain = ws_scope([(b"x-trace", b"1")])
    headers = plain["headers"]
    AuthorizationHeaderTransport().redact(plain)
    assert (basic["headers"], plain["headers"] is headers) == ([(b"host", b"testserver")], True)


def test_header_redact_keeps_the_servers_own_header_entries() -> None:
    """The application's list holds the server's header pairs themselves (a held socket keeps it),
    lists included (the shape some servers use), and the server's own list is left whole."""
    trace, agent = (b"x-trace", b"1"), [b"user-agent", b"test"]
    server_headers = [(b"host", b"testserver"), trace, (b"authorization", b"Bearer abc"), agent]
    scope = ws_scope([])
    scope["headers"] = server_headers
    AuthorizationHeaderTransport().redact(scope)
    assert scope["headers"] == [(b"host", b"testserver"), trace, agent]
    assert scope["headers"][1] is trace
    assert scope["headers"][2] is agent
    assert len(server_headers) == 4


def test_header_is_not_ambient() -> None:
    """Browsers never attach an Authorization header by themselves."""
    scope = ws_scope([(b"authorization", b"Bearer abc")])
    credential = AuthorizationHeaderTransport().find(scope, max_bytes=MAX)
    assert credential is not None
    assert credential.ambient is False


# -- cookies ---------------------------------------------------------------------------------------


def test_cookie_finds_its_cookie() -> None:
    """A named cookie is an ambient credential of the configured scheme."""
    scope = ws_scope([(b"cookie", b"theme=dark; access_token=abc123")])
    assert CookieTransport().find(scope, max_bytes=MAX) == Credential(
        "bearer", "abc123", "cookie", ambient=True
    )


def test_cookie_name_must_match_exactly() -> None:
    """The seed bug: cookie 'xkey=1' must not be taken for cookie 'key'."""
    scope = ws_scope([(b"cookie", b"xkey=1; keyx=2; a_key=3")])
    assert CookieTransport(cookie="key").find(scope, max_bytes=MAX) is None


def test_cookie_exact_name_found_among_lookalikes() -> None:
    """Among 'xkey' and 'keyx', only 'key' counts."""
    scope = ws_scope([(b"cookie", b"xkey=1; key=right; keyx=2")])
    assert CookieTransport(cookie="key", scheme="Token").find(scope, max_bytes=MAX) == Credential(
        "token", "right", "cookie", ambient=True
    )


def test_cookie_absent_header_is_none() -> None:
    """No Cookie header, no credential."""
    assert CookieTransport().find(ws_scope(), max_bytes=MAX) is None


def test_cookie_split_across_headers_is_found() -> None:
    """HTTP/2 clients may send one Cookie header per cookie; they are joined."""
    scope = ws_scope([(b"cookie", b"theme=dark"), (b"cookie", b"access_token=abc123")])
    assert CookieTransport().find(scope, max_bytes=MAX) == Credential(
        "bearer", "abc123", "cookie", ambient=True
    )


def test_cookie_header_over_the_limit_is_a_bad_request() -> None:
    """A Cookie header over 32 KiB is refused before it is parsed."""
    scope = ws_scope([(b"cookie", b"a=" + b"x" * MAX_COOKIE_HEADER_BYTES)])
    with pytest.raises(BadRequest) as exc_info:
        CookieTransport().find(scope, max_bytes=MAX)
    assert exc_info.value.detail == "Cookie header over 32768 bytes"


def test_cookie_with_a_malformed_value_is_a_bad_request() -> None:
    """A credential cookie must hold a token."""
    scope = ws_scope([(b"cookie", b'access_token="a b"')])
    with pytest.raises(BadRequest):
        CookieTransport().find(scope, max_bytes=MAX)


def test_cookie_redact_removes_only_its_cookie() -> None:
    """Other cookies, including lookalike names, stay in the application's Cookie header."""
    scope = ws_scope([(b"x-trace", b"1"), (b"cookie", b"xkey=1; key=secret; theme=dark")])
    CookieTransport(cookie="key").redact(scope)
    assert scope["headers"] == [
        (b"host", b"testserver"),
        (b"x-trace", b"1"),
        (b"cookie", b"xkey=1; theme=dark"),
    ]


def test_cookie_redact_updates_parsed_cookies() -> None:
    """scope['cookies'] (from Channels' CookieMiddleware) loses the cookie too."""
    scope = ws_scope([(b"cookie", b"key=secret; theme=dark")])
    scope["cookies"] = {"key": "secret", "theme": "dark"}
    CookieTransport(cookie="key").redact(scope)
    assert scope["cookies"] == {"theme": "dark"}


def test_cookie_redact_without_cookies_changes_nothing() -> None:
    """A scope without a Cookie header is left as it was."""
    scope = ws_scope([(b"x-trace", b"1")])
    CookieTransport().redact(scope)
    assert scope["headers"] == [(b"host", b"testserver"), (b"x-trace", b"1")]


def test_session_cookie_uses_the_default_session_cookie_name() -> None:
    """The session transport reads Django's 'sessionid' cookie as a session credential."""
    scope = ws_scope([(b"cookie", b"sessionid=abcdefgh12345678")])
    assert SessionCookieTransport().find(scope, max_bytes=MAX) == Credential(
        "session", "abcdefgh12345678", "session", ambient=True
    )


def test_session_cookie_follows_session_cookie_name(settings: Any) -> None:
    """A changed SESSION_COOKIE_NAME takes effect at once, through the settings fixture."""
    settings.SESSION_COOKIE_NAME = "warden_sid"
    scope = ws_scope([(b"cookie", b"sessionid=oldname1; warden_sid=newname1")])
    assert SessionCookieTransport().find(scope, max_bytes=MAX) == Credential(
        "session", "newname1", "session", ambient=True
    )


def test_session_cookie_under_the_old_name_is_ignored(settings: Any) -> None:
    """After a rename, the default 'sessionid' cookie is not a session credential."""
    settings.SESSION_COOKIE_NAME = "warden_sid"
    scope = ws_scope([(b"cookie", b"sessionid=oldname1")])
    assert SessionCookieTransport().find(scope, max_bytes=MAX) is None


def test_session_cookie_redact_keeps_the_cookie() -> None:
    """scope['session'] and channels.auth.login need the session cookie, so it stays."""
    scope = ws_scope([(b"cookie", b"sessionid=abcdefgh12345678")])
    SessionCookieTransport().redact(scope)
    assert scope["headers"] == [(b"host", b"testserver"), (b"cookie", b"sessionid=abcdefgh12345678")]


# -- Sec-WebSocket-Protocol ------------------------------------------------------------------------


def test_subprotocol_finds_marker_and_credential() -> None:
    """['warden', 'bearer.<jwt>'] carries a bearer credential."""
    scope = ws_scope(subprotocols=["warden", f"bearer.{JWT}"])
    assert SubprotocolTransport().find(scope, max_bytes=MAX) == Credential("bearer", JWT, "subprotocol")


def test_subprotocol_scheme_is_lower_cased() -> None:
    """'Token.<key>' is a token credential."""
    scope = ws_scope(subprotocols=["warden", "Token.abc123"])
    assert SubprotocolTransport().find(scope, max_bytes=MAX) == Credential("token", "abc123", "subprotocol")


def test_subprotocol_order_does_not_matter() -> None:
    """The credential may come before the marker."""
    scope = ws_scope(subprotocols=["token.abc123", "warden"])
    assert SubprotocolTransport().find(scope, max_bytes=MAX) == Credential("token", "abc123", "subprotocol")


def test_subprotocol_application_protocols_are_left_to_the_app() -> None:
    """'chat.v1' is a protocol, not a credential: nothing found, nothing refused."""
    scope = ws_scope(subprotocols=["chat.v1", "chat.v2"])
    assert SubprotocolTransport().find(scope, max_bytes=MAX) is None


def test_subprotocol_credential_next_to_an_application_protocol() -> None:
    """The credential is found while 'chat.v1' is offered too."""
    scope = ws_scope(subprotocols=["warden", "bearer.abc", "chat.v1"])
    assert SubprotocolTransport().find(scope, max_bytes=MAX) == Credential("bearer", "abc", "subprotocol")


def test_subprotocol_marker_alone_is_no_credential() -> None:
    """The marker without a credential is an anonymous client that speaks warden."""
    assert SubprotocolTransport().find(ws_scope(subprotocols=["warden"]), max_bytes=MAX) is None


def test_subprotocol_no_subprotocols_is_none() -> None:
    """No Sec-WebSocket-Protocol, no credential."""
    assert SubprotocolTransport().find(ws_scope(), max_bytes=MAX) is None


def test_subprotocol_duplicate_marker_is_a_bad_request() -> None:
    """The marker offered twice is refused."""
    scope = ws_scope(subprotocols=["warden", "warden", "bearer.abc"])
    with pytest.raises(BadRequest) as exc_info:
        SubprotocolTransport().find(scope, max_bytes=MAX)
    assert exc_info.value.detail == "subprotocol 'warden' offered more than once"


def test_subprotocol_two_credentials_are_a_bad_request() -> None:
    """Two credential entries are ambiguous."""
    scope = ws_scope(subprotocols=["warden", "bearer.abc", "token.def"])
    with pytest.raises(BadRequest) as exc_info:
        SubprotocolTransport().find(scope, max_bytes=MAX)
    assert exc_info.value.detail == "more than one credential subprotocol offered"


def test_subprotocol_empty_entry_is_a_bad_request() -> None:
    """An empty entry next to the marker is refused."""
    scope = ws_scope(subprotocols=["warden", "", "bearer.abc"])
    with pytest.raises(BadRequest) as exc_info:
        SubprotocolTransport().find(scope, max_bytes=MAX)
    assert exc_info.value.detail == "empty subprotocol entry"


def test_subprotocol_credential_without_marker_is_a_bad_request() -> None:
    """'bearer.<token>' without 'warden' is refused: the server could not echo anything safe."""
    scope = ws_scope(subprotocols=["bearer.abc"])
    with pytest.raises(BadRequest) as exc_info:
        SubprotocolTransport().find(scope, max_bytes=MAX)
    assert exc_info.value.detail == "credential subprotocol offered without the 'warden' marker"


def test_subprotocol_more_than_sixteen_entries_is_a_bad_request() -> None:
    """Seventeen offered protocols are refused before any is inspected."""
    scope = ws_scope(subprotocols=["warden", *(f"p{i}" for i in range(16))])
    with pytest.raises(BadRequest) as exc_info:
        SubprotocolTransport().find(scope, max_bytes=MAX)
    assert exc_info.value.detail == "more than 16 subprotocols offered"


def test_subprotocol_sixteen_entries_are_allowed() -> None:
    """Sixteen offered protocols are within the limit."""
    scope = ws_scope(subprotocols=["warden", "bearer.abc", *(f"p{i}" for i in range(14))])
    assert SubprotocolTransport().find(scope, max_bytes=MAX) == Credential("bearer", "abc", "subprotocol")


def test_subprotocol_malformed_token_is_a_bad_request() -> None:
    """The token part is shape-checked like any credential."""
    scope = ws_scope(subprotocols=["warden", "bearer.a=b"])
    with pytest.raises(BadRequest) as exc_info:
        SubprotocolTransport().find(scope, max_bytes=MAX)
    assert exc_info.value.detail == (
        "subprotocol token contains characters no token has (space, control, non-ASCII)"
    )


def test_subprotocol_custom_schemes() -> None:
    """Only the configured schemes are credentials; others are left to the app."""
    transport = SubprotocolTransport(schemes=["Knox"])
    scope = ws_scope(subprotocols=["warden", "knox.abc", "bearer.v1"])
    assert transport.find(scope, max_bytes=MAX) == Credential("knox", "abc", "subprotocol")


def test_subprotocol_custom_marker() -> None:
    """A transport built with its own marker uses it instead of the setting."""
    transport = SubprotocolTransport(protocol="acme-auth")
    scope = ws_scope(subprotocols=["acme-auth", "bearer.abc"])
    assert (transport.find(scope, max_bytes=MAX), transport.accept_subprotocol(scope)) == (
        Credential("bearer", "abc", "subprotocol"),
        "acme-auth",
    )


def test_subprotocol_marker_follows_the_setting(settings: Any) -> None:
    """The SUBPROTOCOL setting names the marker, read at use."""
    settings.WARDEN = {**settings.WARDEN, "SUBPROTOCOL": "acme-auth"}
    scope = ws_scope(subprotocols=["acme-auth", "bearer.abc"])
    assert SubprotocolTransport().accept_subprotocol(scope) == "acme-auth"


def test_subprotocol_redact_leaves_only_application_protocols() -> None:
    """The app sees 'chat.v1' but neither the marker nor the token, nor the raw header."""
    scope = ws_scope(
        [(b"sec-websocket-protocol", b"warden, bearer.abc, chat.v1")],
        subprotocols=["warden", "bearer.abc", "chat.v1"],
    )
    SubprotocolTransport().redact(scope)
    assert (scope["subprotocols"], scope["headers"]) == (["chat.v1"], [(b"host", b"testserver")])


def test_subprotocol_accept_echoes_the_marker_never_the_token() -> None:
    """The server selects 'warden', which Chrome requires and which carries no secret."""
    scope = ws_scope(subprotocols=["warden", "bearer.abc"])
    assert SubprotocolTransport().accept_subprotocol(scope) == "warden"


def test_subprotocol_accept_without_marker_is_none() -> None:
    """Without the marker the transport selects nothing; the app may choose."""
    assert SubprotocolTransport().accept_subprotocol(ws_scope(subprotocols=["chat.v1"])) is None


# -- raw JWT subprotocol (compatibility) -----------------------------------------------------------


def test_raw_jwt_finds_a_lone_jwt() -> None:
    """A JWT as the only offered protocol is a bearer credential."""
    scope = ws_scope(subprotocols=[JWT])
    assert RawJWTSubprotocolTransport().find(scope, max_bytes=MAX) == Credential(
        "bearer", JWT, "subprotocol_jwt"
    )


def test_raw_jwt_must_be_the_only_protocol() -> None:
    """With other protocols offered the compatibility form does not apply."""
    scope = ws_scope(subprotocols=[JWT, "chat.v1"])
    assert RawJWTSubprotocolTransport().find(scope, max_bytes=MAX) is None


def test_raw_jwt_ignores_non_jwt_protocols() -> None:
    """A lone protocol that is not a JWT is the app's."""
    assert RawJWTSubprotocolTransport().find(ws_scope(subprotocols=["chat.v1"]), max_bytes=MAX) is None


def test_raw_jwt_accept_echoes_the_token() -> None:
    """The compatibility mode has to echo the token (why W003 warns)."""
    assert RawJWTSubprotocolTransport().accept_subprotocol(ws_scope(subprotocols=[JWT])) == JWT


def test_raw_jwt_redact_removes_the_token() -> None:
    """The app sees no subprotocols and no Sec-WebSocket-Protocol header."""
    scope = ws_scope([(b"sec-websocket-protocol", JWT.encode())], subprotocols=[JWT])
    RawJWTSubprotocolTransport().redact(scope)
    assert (scope["subprotocols"], scope["headers"]) == ([], [(b"host", b"testserver")])


def test_raw_jwt_redact_leaves_other_protocols() -> None:
    """Redaction only touches a scope the transport found a token in."""
    scope = ws_scope(subprotocols=["chat.v1"])
    RawJWTSubprotocolTransport().redact(scope)
    assert scope["subprotocols"] == ["chat.v1"]


# -- query string ----------------------------------------------------------------------------------


def test_query_finds_the_token() -> None:
    """?token=<jwt> is a bearer credential."""
    scope = ws_scope(query_string=f"room=1&token={JWT}".encode())
    assert QueryStringTransport().find(scope, max_bytes=MAX) == Credential("bearer", JWT, "query")


def test_query_absent_is_none() -> None:
    """Without the parameter there is no credential."""
    assert QueryStringTransport().find(ws_scope(query_string=b"room=1"), max_bytes=MAX) is None


def test_query_name_must_match_exactly() -> None:
    """'access_token' and 'tokenx' are not 'token'."""
    scope = ws_scope(query_string=b"access_token=abc&tokenx=def")
    assert QueryStringTransport().find(scope, max_bytes=MAX) is None


def test_query_duplicates_are_a_bad_request() -> None:
    """Two values would let a proxy and the server disagree: refused."""
    scope = ws_scope(query_string=b"token=abc&token=def")
    with pytest.raises(BadRequest) as exc_info:
        QueryStringTransport().find(scope, max_bytes=MAX)
    assert exc_info.value.detail == "query parameter 'token' given more than once"


def test_query_percent_encoded_name_counts_as_a_duplicate() -> None:
    """'%74oken' decodes to 'token', so it is a second value, not a different parameter."""
    scope = ws_scope(query_string=b"token=abc&%74oken=def")
    with pytest.raises(BadRequest):
        QueryStringTransport().find(scope, max_bytes=MAX)


@pytest.mark.parametrize("value", [b"ab%zzcd", b"abc%4", b"abc%"])
def test_query_broken_percent_encoding_is_a_bad_request(value: bytes) -> None:
    """A '%' not followed by two hex digits is refused, not guessed at."""
    scope = ws_scope(query_string=b"token=" + value)
    with pytest.raises(BadRequest) as exc_info:
        QueryStringTransport().find(scope, max_bytes=MAX)
    assert exc_info.value.detail == "query parameter 'token' has broken percent-encoding"


def test_query_percent_encoded_invalid_utf8_is_a_bad_request() -> None:
    """'%ff' decodes to a byte that is not UTF-8."""
    scope = ws_scope(query_string=b"token=abc%ff")
    with pytest.raises(BadRequest) as exc_info:
        QueryStringTransport().find(scope, max_bytes=MAX)
    assert exc_info.value.detail == "query parameter 'token' is not valid UTF-8"


def test_query_raw_non_ascii_is_a_bad_request() -> None:
    """Unencoded non-ASCII bytes in the query string are refused."""
    scope = ws_scope(query_string=b"token=abc\xe9")
    with pytest.raises(BadRequest) as exc_info:
        QueryStringTransport().find(scope, max_bytes=MAX)
    assert exc_info.value.detail == "query parameter 'token' is not valid UTF-8"


def test_query_percent_encoded_plus_is_a_plus() -> None:
    """'%2B' is a literal '+', which base64 tokens contain."""
    scope = ws_scope(query_string=b"token=ab%2Bcd%2F%3D")
    assert QueryStringTransport().find(scope, max_bytes=MAX) == Credential("bearer", "ab+cd/=", "query")


def test_query_bare_plus_is_a_space_and_refused() -> None:
    """A bare '+' means space in a query string, so an unencoded base64 token is refused."""
    scope = ws_scope(query_string=b"token=ab+cd")
    with pytest.raises(BadRequest) as exc_info:
        QueryStringTransport().find(scope, max_bytes=MAX)
    assert exc_info.value.detail == (
        "query parameter 'token' contains characters no token has (space, control, non-ASCII)"
    )


def test_query_value_far_over_the_limit_is_refused_before_decoding() -> None:
    """A raw value over three times the limit is refused without being decoded."""
    scope = ws_scope(query_string=b"token=" + b"%zz" * 4)
    with pytest.raises(BadRequest) as exc_info:
        query_parameter(scope, "token", max_bytes=3)
    assert exc_info.value.detail == "query parameter 'token' over the size limit"


def test_query_empty_value_is_a_bad_request() -> None:
    """'?token=' names the parameter without a token."""
    with pytest.raises(BadRequest):
        QueryStringTransport().find(ws_scope(query_string=b"token="), max_bytes=MAX)


def test_query_custom_parameter_and_scheme() -> None:
    """A transport can read another parameter as another scheme."""
    transport = QueryStringTransport(parameter="key", scheme="Token")
    scope = ws_scope(query_string=b"token=ignored&key=abc123")
    assert transport.find(scope, max_bytes=MAX) == Credential("token", "abc123", "query")


def test_query_redact_keeps_other_parameters_in_order() -> None:
    """Only the token goes; every other pair stays byte for byte, in order."""
    scope = ws_scope(query_string=b"b=2&token=abc&a=1&c=%20x+y&token2=z")
    QueryStringTransport().redact(scope)
    assert scope["query_string"] == b"b=2&a=1&c=%20x+y&token2=z"


def test_query_redact_removes_encoded_names_too() -> None:
    """A percent-encoded 'token' is the same parameter and is removed as well."""
    scope = ws_scope(query_string=b"a=1&%74oken=abc")
    QueryStringTransport().redact(scope)
    assert scope["query_string"] == b"a=1"


def test_query_redact_keeps_undecodable_names() -> None:
    """A name that is not UTF-8 is not the token and is kept."""
    scope = ws_scope(query_string=b"%ff=1&token=abc")
    QueryStringTransport().redact(scope)
    assert scope["query_string"] == b"%ff=1"


def test_query_redact_without_query_string() -> None:
    """A scope without a query string gets an empty one."""
    scope: dict[str, Any] = {"type": "websocket"}
    QueryStringTransport().redact(scope)
    assert scope["query_string"] == b""


def test_cookie_redaction_leaves_the_header_alone_without_its_cookie() -> None:
    """A Cookie header without the credential cookie reaches the app byte for byte."""
    scope = ws_scope(headers=[(b"cookie", b'theme="dark mode"; lang=fr')])
    CookieTransport("access_token").redact(scope)
    assert scope["headers"] == [(b"host", b"testserver"), (b"cookie", b'theme="dark mode"; lang=fr')]


def test_subprotocol_redaction_leaves_foreign_protocols_alone() -> None:
    """Without warden's entries, the app sees its subprotocols and header untouched."""
    scope = ws_scope(headers=[(b"sec-websocket-protocol", b"chat.v1")], subprotocols=["chat.v1"])
    SubprotocolTransport().redact(scope)
    assert (scope["subprotocols"], scope["headers"][-1]) == (
        ["chat.v1"],
        (b"sec-websocket-protocol", b"chat.v1"),
    )


def test_session_cookie_accepts_signed_cookie_session_keys() -> None:
    """signed_cookies sessions put 'value:timestamp:signature' in the cookie; that is a session key."""
    key = "eyJhIjoxfQ:1vKx2Q:Zm9vYmFy-_"
    scope = ws_scope(headers=[(b"cookie", f"sessionid={key}".encode())])
    credential = SessionCookieTransport().find(scope, max_bytes=8192)
    assert credential is not None
    assert credential.secret == key


@pytest.mark.parametrize(
    "transport", [CookieTransport(cookie="sessionid"), SessionCookieTransport()], ids=["cookie", "session"]
)
def test_credential_cookie_named_twice_is_a_bad_request(transport: Transport) -> None:
    """``sessionid=A; sessionid=B`` (cookie tossing) is refused, not resolved to the last value."""
    scope = ws_scope([(b"cookie", b"sessionid=abcdefgh12345678"), (b"cookie", b"sessionid=zyxwvuts87654321")])
    with pytest.raises(BadRequest) as exc_info:
        transport.find(scope, max_bytes=MAX)
    assert exc_info.value.detail == "cookie 'sessionid' given more than once"


def test_cookie_redact_removes_a_cookie_daphne_joined_with_a_comma() -> None:
    """daphne joins two Cookie fields with ', '; the credential is still removed from the app's copy."""
    scope = ws_scope([(b"cookie", b"theme=dark, key=secret")])
    CookieTransport(cookie="key").redact(scope)
    assert scope["headers"][-1] == (b"cookie", b"theme=dark")

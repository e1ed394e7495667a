"""The JWT fast path against SimpleJWT itself: same verdict and same user for every generated token.

Every combination of the SimpleJWT settings the fast path reads (algorithm family, ``AUDIENCE``,
``ISSUER``, ``LEEWAY`` as int, float and timedelta, ``TOKEN_TYPE_CLAIM`` and ``JTI_CLAIM`` on or
off, ``USER_ID_CLAIM``, the token class) gets a seeded sample of valid and malformed tokens; each goes
through ``SimpleJWTAuthenticator(fast_path=False)`` (warden's claim checks, then SimpleJWT's
``token_class(raw)``) and ``SimpleJWTAuthenticator()`` (the fast path), and both must say the same.
"""

from __future__ import annotations

import base64
import functools
import itertools
import json
import random
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from rest_framework_simplejwt import models, state, tokens
from rest_framework_simplejwt import settings as simplejwt_settings
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.tokens import AccessToken, Token

from channels_warden.authenticators import jwt_fast
from channels_warden.authenticators.simplejwt import SimpleJWTAuthenticator
from channels_warden.credentials import Credential
from channels_warden.exceptions import Rejection

HMAC_KEY = "differential-test-signing-key-" + "k" * 40
OTHER_HMAC_KEY = "another-signing-key-entirely-" + "z" * 40
JSON_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    -1,
    1.5,
    2**70,
    "",
    "1",
    "x" * 300,
    [],
    ["a"],
    [1],
    {},
    {"a": 1},
]


def _pem(private: Any) -> tuple[str, str]:
    return (
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode(),
    )


@pytest.fixture(scope="module")
def keys() -> dict[str, tuple[str, str]]:
    """Signing and verifying keys per algorithm family."""
    rsa_pair = _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return {
        "HS256": (HMAC_KEY, ""),
        "HS512": (HMAC_KEY + "x" * 40, ""),
        "RS256": rsa_pair,
        "PS256": rsa_pair,
        "ES256": _pem(ec.generate_private_key(ec.SECP256R1())),
        "EdDSA": _pem(ed25519.Ed25519PrivateKey.generate()),
    }


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _raw(header: Any, payload: Any, signature: bytes = b"sig") -> str:
    return ".".join(_b64(json.dumps(part).encode()) for part in (header, payload)) + "." + _b64(signature)


@functools.cache
def _signer(algorithm: str, key: str) -> tuple[Any, Any]:
    """PyJWT's algorithm object and the prepared signing key (loading a PEM key is slow)."""
    found = jwt.PyJWS().get_algorithm_by_name(algorithm)
    return found, found.prepare_key(key)


class Combination:
    """One set of settings and what a valid token for it looks like."""

    def __init__(self, values: dict[str, Any], keys: dict[str, tuple[str, str]]) -> None:
        self.values = values
        self.algorithm = values["ALGORITHM"]
        self.signing_key, self.verifying_key = keys[self.algorithm]
        self.type_claim = values["TOKEN_TYPE_CLAIM"]
        self.jti_claim = values["JTI_CLAIM"]
        self.user_claim = values["USER_ID_CLAIM"]
        self.token_type = values["token_class"].token_type

    def settings(self) -> dict[str, Any]:
        names = (
            "ALGORITHM",
            "AUDIENCE",
            "ISSUER",
            "LEEWAY",
            "TOKEN_TYPE_CLAIM",
            "JTI_CLAIM",
            "USER_ID_CLAIM",
        )
        found = {name: self.values[name] for name in names}
        found["SIGNING_KEY"], found["VERIFYING_KEY"] = self.signing_key, self.verifying_key
        return found

    def leeway(self) -> float:
        leeway = self.values["LEEWAY"]
        return leeway.total_seconds() if isinstance(leeway, timedelta) else float(leeway)

    def claims(self, user: Any = "7") -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {"exp": now + 300, "iat": now, self.user_claim: user}
        if self.type_claim:
            claims[self.type_claim] = self.token_type
        if self.jti_claim:
            claims[self.jti_claim] = "a1b2c3"
        audience = self.values["AUDIENCE"]
        if audience is not None:
            claims["aud"] = audience
        if self.values["ISSUER"] is not None:
            claims["iss"] = self.values["ISSUER"]
        return claims

    def sign(self, claims: dict[str, Any]) -> str:
        """Signed as PyJWT signs, also claims PyJWT's encoder refuses (a list ``iss``)."""
        return self.sign_raw({"typ": "JWT"}, json.dumps(claims).encode())

    def sign_raw(self, header: dict[str, Any], payload: bytes) -> str:
        """A correctly signed token whose header and payload bytes PyJWT's encoder would not write."""
        algorithm, key = _signer(self.algorithm, self.signing_key)
        signing_input = f"{_b64(json.dumps({'alg': self.algorithm, **header}).encode())}.{_b64(payload)}"
        signature = algorithm.sign(signing_input.encode(), key)
        return f"{signing_input}.{_b64(signature)}"


def cases(combo: Combination, rng: random.Random) -> Iterator[Callable[[], str]]:
    """Makers of valid and malformed tokens for ``combo`` (only the sampled ones are signed)."""
    now, leeway = int(time.time()), combo.leeway()
    yield lambda: combo.sign(combo.claims())
    yield lambda: combo.sign(combo.claims(user=7))
    yield lambda: combo.sign({**combo.claims(), "exp": now - 30})
    yield lambda: combo.sign({**combo.claims(), "exp": now - int(leeway / 2) - 1})
    yield lambda: combo.sign({**combo.claims(), "nbf": now + 100})
    yield lambda: combo.sign({**combo.claims(), "nbf": now + int(leeway / 2)})
    yield lambda: combo.sign({**combo.claims(), "iat": now + 200})
    if combo.type_claim:
        yield lambda: combo.sign({**combo.claims(), combo.type_claim: "refresh"})
    for claim in (
        "exp",
        "nbf",
        "iat",
        "aud",
        "iss",
        "jti",
        "sub",
        combo.type_claim,
        combo.jti_claim,
        combo.user_claim,
    ):
        if claim:
            value = rng.choice(JSON_VALUES)
            yield lambda claim=claim, value=value: combo.sign({**combo.claims(), claim: value})
            missing = combo.claims()
            missing.pop(claim, None)
            yield lambda missing=missing: combo.sign(missing)
    yield lambda: combo.sign({**combo.claims(), "aud": "someone-else"})
    yield lambda: combo.sign({**combo.claims(), "aud": ["someone-else", "aud-a"]})
    yield lambda: combo.sign({**combo.claims(), "iss": "https://evil.example"})
    good = combo.sign(combo.claims())
    head, body, signature = good.split(".")
    yield lambda: f"{head}.{body[:-2]}{'A' if body[-2] != 'A' else 'B'}{body[-1]}.{signature}"
    yield lambda: f"{head}.{body}.{signature[:-3]}{'A' if signature[-3] != 'A' else 'B'}{signature[-2:]}"
    yield lambda: f"{head}.{body}.{signature}="
    yield lambda: f"{head}.{body}="[:-1] + f".{signature}"
    yield lambda: f"{head}.{body}.{signature}.x"
    yield lambda: f"{head}.{body}"
    yield lambda: f"{head}.{body}!.{signature}"
    yield lambda: jwt.encode(combo.claims(), OTHER_HMAC_KEY + "q" * 40, algorithm="HS256")
    yield lambda: jwt.encode(combo.claims(), OTHER_HMAC_KEY + "q" * 40, algorithm="HS384")
    yield lambda: _raw({"alg": "none", "typ": "JWT"}, combo.claims(), b"")
    yield lambda: _raw({"typ": "JWT"}, combo.claims())
    yield lambda: _raw({"alg": combo.algorithm}, ["not", "an", "object"])
    yield lambda: _raw(["header"], combo.claims())
    claims = json.dumps(combo.claims()).encode()
    yield lambda: combo.sign_raw({"kid": 5}, claims)
    yield lambda: combo.sign_raw({"crit": ["exp"]}, claims)
    yield lambda: combo.sign_raw({"crit": "b64"}, claims)
    yield lambda: combo.sign_raw({"b64": False, "crit": ["b64"]}, claims)
    yield lambda: combo.sign_raw({}, json.dumps({**combo.claims(), "extra": float("nan")}).encode())
    yield lambda: combo.sign_raw({}, b'{"exp": 1e400}')
    yield lambda: combo.sign_raw({"x": float("nan")}, json.dumps(combo.claims()).encode())
    yield lambda: combo.sign_raw({}, json.dumps(combo.claims()).encode().replace(b"}", b', "big": 1e400}'))


def verdict(authenticator: SimpleJWTAuthenticator, raw: str, loop: Any) -> tuple[str, Any]:
    """``("accept", user id)``, ``("reject", rejection class, code)`` or ``("crash", exception class)``."""
    credential = Credential(scheme="bearer", secret=raw, transport="header")
    try:
        user, _ = loop.run_until_complete(authenticator.authenticate(credential, {}))
    except Rejection as exc:
        return ("reject", (type(exc).__name__, exc.code))
    except Exception as exc:  # a crash on one side only is a difference too
        return ("crash", type(exc).__name__)
    return ("accept", user.id)


COMBINATIONS = list(
    itertools.product(
        ("HS256", "HS512", "RS256", "PS256", "ES256", "EdDSA"),
        (None, "aud-a", ["aud-a", "aud-b"]),
        (None, "https://issuer.example"),
        (0, 5, timedelta(seconds=3.5)),
        ("token_type", None),
        ("jti", None),
        ("user_id", "sub"),
        (AccessToken, tokens.UntypedToken),
    )
)


def test_the_fast_path_agrees_with_simplejwt_on_every_setting_combination(
    keys: dict[str, tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over 5,000 tokens on every combination: same accept/reject, same rejection, same user id."""
    import asyncio

    rng = random.Random(20261204)
    loop = asyncio.new_event_loop()
    checked, accepted, differences = 0, 0, []
    slow = SimpleJWTAuthenticator(mode="stateless", fast_path=False)
    try:
        for (
            algorithm,
            audience,
            issuer,
            leeway,
            type_claim,
            jti_claim,
            user_claim,
            token_class,
        ) in COMBINATIONS:
            values = {
                "ALGORITHM": algorithm,
                "AUDIENCE": audience,
                "ISSUER": issuer,
                "LEEWAY": leeway,
                "TOKEN_TYPE_CLAIM": type_claim,
                "JTI_CLAIM": jti_claim,
                "USER_ID_CLAIM": user_claim,
                "token_class": token_class,
            }
            combo = Combination(values, keys)
            api = simplejwt_settings.APISettings(
                combo.settings(), simplejwt_settings.DEFAULTS, simplejwt_settings.IMPORT_STRINGS
            )
            backend = TokenBackend(
                algorithm, combo.signing_key, combo.verifying_key, audience, issuer, None, leeway
            )
            monkeypatch.setattr(simplejwt_settings, "api_settings", api)
            monkeypatch.setattr(tokens, "api_settings", api)
            monkeypatch.setattr(models, "api_settings", api)
            monkeypatch.setattr(state, "token_backend", backend)
            path = f"{token_class.__module__}.{token_class.__qualname__}"
            fast = SimpleJWTAuthenticator(mode="stateless", token_class=path)
            slow_here = SimpleJWTAuthenticator(mode="stateless", token_class=path, fast_path=False)
            assert (jwt_fast.prepared_for(token_class) is not None) is jwt_fast.supported()
            makers = list(cases(combo, rng))
            for make in [makers[0], *rng.sample(makers[1:], 4)]:
                raw = make()
                expected, found = verdict(slow_here, raw, loop), verdict(fast, raw, loop)
                checked += 1
                accepted += expected[0] == "accept"
                if expected != found:
                    differences.append((values, raw, expected, found))
    finally:
        loop.close()
    assert slow.fast_path is False
    assert differences == []
    assert checked >= 5000
    assert len(COMBINATIONS) == 1728
    assert checked > accepted >= len(COMBINATIONS)


def test_a_token_class_with_a_verify_of_its_own_uses_simplejwt() -> None:
    """A class that overrides verify (SimpleJWT's blacklist mixin does) is never fast-pathed."""

    class CheckedToken(AccessToken):
        def verify(self) -> None:
            super().verify()

    assert jwt_fast.prepared_for(CheckedToken) is None
    assert (jwt_fast.prepared_for(AccessToken) is not None) is jwt_fast.supported()


def test_a_jwk_set_url_uses_simplejwt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys fetched from a JWK set depend on the token's kid: no key to prepare once."""
    backend = TokenBackend("RS256", jwk_url="https://keys.example/.well-known/jwks.json")
    monkeypatch.setattr(state, "token_backend", backend)
    assert jwt_fast.prepared_for(AccessToken) is None


def test_a_new_backend_is_prepared_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """A settings change that rebuilds the backend gets a new prepared key; the same one is reused.

    On a PyJWT without the instance hooks (the oldest lock's 2.9.0) nothing is ever prepared.
    """
    if not jwt_fast.supported():
        monkeypatch.setattr(state, "token_backend", TokenBackend("HS512", HMAC_KEY + "x" * 40))
        assert jwt_fast.prepared_for(AccessToken) is None
        return
    first = jwt_fast.prepared_for(AccessToken)
    assert jwt_fast.prepared_for(AccessToken) is first
    monkeypatch.setattr(state, "token_backend", TokenBackend("HS512", HMAC_KEY + "x" * 40))
    second = jwt_fast.prepared_for(AccessToken)
    assert second is not None
    assert second is not first
    assert (second.algorithm, second.key) == ("HS512", (HMAC_KEY + "x" * 40).encode())


def test_the_base_token_class_is_not_fast_pathed() -> None:
    """Token itself has no type or lifetime: SimpleJWT refuses to build it, so the fast path does not."""
    assert jwt_fast.prepared_for(Token) is None

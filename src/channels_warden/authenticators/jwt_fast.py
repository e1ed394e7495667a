"""SimpleJWT tokens verified with PyJWT directly: the key, algorithm and options prepared once.

``AccessToken(raw)`` asks PyJWT to decode, and PyJWT prepares the key again on every decode (for an
HMAC key it tries to load it as a PEM, DER and SSH key first) and checks every base64 character in
Python. For a cold handshake that is a large share of the work. This module keeps SimpleJWT's
meaning and drops the repeated work:

* the verifying key, the algorithm object, audience, issuer and leeway come from the very
  ``TokenBackend`` SimpleJWT would use (``state.token_backend``, or the token class's own), prepared
  once per backend: a new backend (a settings change that rebuilds it) is prepared again;
* PyJWT still parses the token and validates ``exp``, ``nbf``, ``iat``, ``aud``, ``iss`` and ``jti``
  with the backend's leeway; only the key preparation is skipped and well-formed base64 segments
  are decoded in C (anything unusual goes to PyJWT's own decoder);
* warden's strict claim checks (:mod:`.claims`) run on the payload PyJWT parsed, before PyJWT's
  claim checks, instead of on a second parse of the unverified token;
* SimpleJWT's own ``Token.verify`` then runs on the decoded payload (``exp`` present and not past
  with leeway, the ``JTI_CLAIM``, the token type claim), exactly as ``Token.__init__`` would run it.

Token classes whose ``verify`` is not SimpleJWT's base one (the blacklist mixin, which queries the
database, or a custom class), a JWK set URL, or a backend whose key cannot be prepared are not
handled here: :func:`prepared_for` returns ``None`` and the caller validates with SimpleJWT itself.
"""

from __future__ import annotations

import base64
import importlib
import re
import sys
import warnings
from dataclasses import dataclass
from functools import cache
from typing import Any

from ..exceptions import AuthenticationFailed
from .claims import _segment, check_claims, strict_json

#: A base64url segment without padding; anything else is left to PyJWT's own decoder.
_SEGMENT = re.compile(rb"[A-Za-z0-9_-]*")
_CACHE: dict[type, _Prepared] = {}
#: The claim whose value is shared between sockets as well (SimpleJWT's default TOKEN_TYPE_CLAIM).
_TYPE_CLAIM_HINT = "token_type"


@dataclass(frozen=True, slots=True)
class _Prepared:
    backend: Any
    decoder: Any  # a PyJWT instance whose JWS verifies with the prepared key
    key: Any
    algorithm: str
    audience: Any
    issuer: Any
    leeway: float


def _fast_jws_class() -> Any:
    from jwt import PyJWS
    from jwt.exceptions import InvalidAlgorithmError, InvalidSignatureError

    class PreparedJWS(PyJWS):
        """PyJWS that verifies with a key prepared once and decodes plain segments in C."""

        def __init__(self, algorithm: str, algorithm_object: Any, key: Any) -> None:
            super().__init__(algorithms=[algorithm])
            self.warden_algorithm = algorithm
            self.warden_algorithm_object = algorithm_object
            self.warden_key = key

        def _load(self, jwt: str | bytes) -> Any:
            loaded = super()._load(jwt)
            # Warden's strict reading of the header (no NaN/Infinity), as claims.unverified_payload.
            raw = jwt.encode() if isinstance(jwt, str) else jwt
            _segment(raw.split(b".", 1)[0].decode("ascii", "replace"), "header")
            return loaded

        @staticmethod
        def _decode_base64url_segment(segment: bytes, name: str) -> bytes:
            if len(segment) % 4 != 1 and _SEGMENT.fullmatch(segment):
                decoded = base64.urlsafe_b64decode(segment + b"=" * (-len(segment) % 4))
                if base64.urlsafe_b64encode(decoded).rstrip(b"=") == segment:
                    return decoded
            parent: bytes = PyJWS._decode_base64url_segment(segment, name)
            return parent

        def _verify_signature(
            self,
            signing_input: bytes,
            header: dict[str, Any],
            signature: bytes,
            key: Any = "",
            algorithms: Any = None,
            options: Any = None,
        ) -> None:
            try:
                alg = header["alg"]
            except KeyError:
                raise InvalidAlgorithmError("Algorithm not specified") from None
            if not alg or alg != self.warden_algorithm:
                raise InvalidAlgorithmError("The specified alg value is not allowed")
            if not self.warden_algorithm_object.verify(signing_input, self.warden_key, signature):
                raise InvalidSignatureError("Signature verification failed")

    return PreparedJWS


def _fast_jwt_class() -> Any:
    from jwt import PyJWT

    class PreparedJWT(PyJWT):
        """PyJWT whose payload is read strictly and whose claim types are checked before PyJWT's checks.

        Exactly what ``claims.check_claims(unverified_payload(raw))`` judged before SimpleJWT ran,
        without parsing the payload twice: a payload PyJWT accepts is the one the pre-check read.
        """

        def _decode_payload(self, decoded: dict[str, Any]) -> dict[str, Any]:
            from rest_framework_simplejwt.settings import api_settings

            try:
                payload = strict_json(decoded["payload"])
            except (ValueError, RecursionError):
                raise AuthenticationFailed("JWT payload is not base64url-encoded JSON") from None
            if not isinstance(payload, dict):
                raise AuthenticationFailed("JWT header or payload is not a JSON object")
            check_claims(payload, string_claims=(api_settings.JTI_CLAIM, api_settings.TOKEN_TYPE_CLAIM))
            return payload

    return PreparedJWT


@cache
def supported() -> bool:
    """Whether this PyJWT decodes through the instance's own ``PyJWS`` (2.10+), which the fast path
    replaces with a prepared one. Older releases decode through the module's ``PyJWS``, so warden's
    strict header reading would be skipped: they get SimpleJWT's own path (proven by the
    differential test on the oldest lock, PyJWT 2.9.0)."""
    import jwt

    return hasattr(jwt.PyJWT(), "_jws")


@cache
def checks_claims() -> bool:
    """Whether this PyJWT calls the hooks the fast path uses to check claims (2.x: ``_load``,
    ``_decode_payload``); if not, the caller runs :func:`.claims.check_claims` itself first."""
    from jwt import PyJWS, PyJWT

    return callable(getattr(PyJWS, "_load", None)) and callable(getattr(PyJWT, "_decode_payload", None))


def _backend_of(token_class: Any) -> Any:
    own = getattr(token_class, "_token_backend", None)
    if own is not None:
        return own
    state: Any = sys.modules.get("rest_framework_simplejwt.state")
    if state is None:
        state = importlib.import_module("rest_framework_simplejwt.state")
    return state.token_backend


def _supported(token_class: Any) -> bool:
    from rest_framework_simplejwt.tokens import Token

    return (
        isinstance(token_class, type)
        and issubclass(token_class, Token)
        and token_class.verify is Token.verify
        and token_class.__init__ is Token.__init__
        and token_class.get_token_backend is Token.get_token_backend
        and token_class.token_type is not None
        and token_class.lifetime is not None
    )


def _prepare(token_class: Any, backend: Any) -> _Prepared | None:
    import jwt

    if getattr(backend, "jwks_client", None) is not None or not _supported(token_class):
        return None
    if not supported():
        return None
    try:
        leeway = backend.get_leeway().total_seconds()
        key = backend.get_verifying_key(None)
        algorithm_object = jwt.PyJWS().get_algorithm_by_name(backend.algorithm)
    except Exception:  # noqa: BLE001 - SimpleJWT raises its own error for this backend: let it, on the slow path
        return None
    if key is None or key == "":
        return None
    check_length = getattr(algorithm_object, "check_key_length", None)  # PyJWT 2.11+
    message = None if check_length is None else check_length(key)
    if message:
        from jwt.warnings import InsecureKeyLengthWarning

        warnings.warn(message, InsecureKeyLengthWarning, stacklevel=3)
    decoder = _fast_jwt_class()()
    decoder._jws = _fast_jws_class()(backend.algorithm, algorithm_object, key)
    return _Prepared(backend, decoder, key, backend.algorithm, backend.audience, backend.issuer, leeway)


def prepared_for(token_class: Any) -> _Prepared | None:
    """The prepared verifier for ``token_class`` and its current backend; ``None``: use SimpleJWT."""
    backend = _backend_of(token_class)
    found = _CACHE.get(token_class)
    if found is None or found.backend is not backend:
        found = _prepare(token_class, backend)
        if found is None:
            _CACHE.pop(token_class, None)
            return None
        _CACHE[token_class] = found
    return found


def decode(prepared: _Prepared, token_class: Any, raw: str) -> Any:
    """A ``token_class`` instance for ``raw``, verified as ``token_class(raw)`` verifies it.

    Raises SimpleJWT's own ``ExpiredTokenError`` / ``TokenError``, as ``token_class(raw)`` would.
    """
    from jwt import ExpiredSignatureError, InvalidAlgorithmError, InvalidTokenError
    from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
    from rest_framework_simplejwt.utils import aware_utcnow

    token = token_class.__new__(token_class)
    token.token = raw
    token.current_time = aware_utcnow()
    try:
        token.payload = prepared.decoder.decode(
            raw,
            prepared.key,
            algorithms=[prepared.algorithm],
            audience=prepared.audience,
            issuer=prepared.issuer,
            leeway=prepared.leeway,
            options={"verify_aud": prepared.audience is not None, "verify_signature": True},
        )
    except InvalidAlgorithmError as exc:
        raise TokenError("Token is invalid") from exc
    except ExpiredSignatureError as exc:
        raise ExpiredTokenError("Token is expired") from exc
    except InvalidTokenError as exc:
        raise TokenError("Token is invalid") from exc
    token.verify()
    # A held socket keeps its claims: share the claim names (and the token type) with every other
    # socket instead of one copy each from the JSON parser (about 300 bytes per socket).
    token.payload = {
        sys.intern(name): sys.intern(value) if name == _TYPE_CLAIM_HINT and isinstance(value, str) else value
        for name, value in token.payload.items()
    }
    return token

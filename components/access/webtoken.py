"""JSON Web Tokens signed with HMAC-SHA256, and nothing else.

Deliberately strict (RFC 7519 / RFC 8725 advice): the header must say exactly
`{"alg": "HS256", "typ": "JWT"}` (no `none`, no asymmetric algorithms, no `crit`), the
three parts must be unpadded base64url, the signature is checked before the payload is
even parsed, and `iss`, `aud`, `iat`, `exp` and the token type are all required.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from typing import Any

import msgspec

ALGORITHM = "HS256"
AUDIENCE = "Moonraker"
# far larger than anything we issue; refuses absurd input before any work
MAX_TOKEN_LENGTH = 4096
_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


class TokenError(Exception):
    """The token is not one we issued, or no longer valid. The message is for logs only."""


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if len(text) % 4 == 1:
        raise TokenError("bad base64url length")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise TokenError("bad base64url") from None
    # one encoding per value: unused low bits must be zero (no malleable variants)
    if b64url_encode(data) != text:
        raise TokenError("non-canonical base64url")
    return data


_HEADER = b64url_encode(_encode({"alg": ALGORITHM, "typ": "JWT"}))


def _sign(secret: bytes, signing_input: bytes) -> bytes:
    return hmac.new(secret, signing_input, hashlib.sha256).digest()


def encode(claims: dict[str, Any], secret: bytes) -> str:
    signing_input = f"{_HEADER}.{b64url_encode(_encode(claims))}"
    signature = _sign(secret, signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"


def _json_object(part: str, what: str) -> dict[str, Any]:
    try:
        value = _decode(b64url_decode(part))
    except (msgspec.DecodeError, UnicodeDecodeError):
        raise TokenError(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise TokenError(f"{what} is not a JSON object")
    return value


def _number(claims: dict[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TokenError(f"claim {name} missing or not a number")
    return float(value)


def decode(
    token: str,
    secret: bytes,
    *,
    now: float,
    issuer: str,
    token_type: str,
    leeway: float = 30.0,
) -> dict[str, Any]:
    """The claims of a valid token of `token_type`; raises TokenError otherwise."""
    if len(token) > MAX_TOKEN_LENGTH or _SHAPE.fullmatch(token) is None:
        raise TokenError("not a compact JWS")
    header_part, payload_part, signature_part = token.split(".")
    header = _json_object(header_part, "header")
    if header.get("alg") != ALGORITHM or header.get("typ", "JWT") != "JWT":
        raise TokenError(f"algorithm {header.get('alg')!r} refused")
    if set(header) - {"alg", "typ", "kid"}:
        raise TokenError("unexpected header parameters")
    expected = _sign(secret, f"{header_part}.{payload_part}".encode("ascii"))
    if not hmac.compare_digest(expected, b64url_decode(signature_part)):
        raise TokenError("bad signature")
    claims = _json_object(payload_part, "payload")
    if claims.get("iss") != issuer:
        raise TokenError("wrong issuer")
    if claims.get("aud") != AUDIENCE:
        raise TokenError("wrong audience")
    if claims.get("token_type") != token_type:
        raise TokenError("wrong token type")
    issued = _number(claims, "iat")
    expires = _number(claims, "exp")
    if issued > now + leeway:
        raise TokenError("issued in the future")
    if expires <= now:
        raise TokenError("expired")
    for name in ("username", "sid"):
        if not isinstance(claims.get(name), str):
            raise TokenError(f"claim {name} missing")
    return claims

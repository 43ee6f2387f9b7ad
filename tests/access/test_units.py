"""The small parts on their own: JWTs, password hashes, trusted clients, CORS patterns,
one-shot tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from components.access import passwords, webtoken
from components.access.clock import Clock
from components.access.cors import CorsPolicy, same_origin
from components.access.tokens import OneShotTokens
from components.access.trust import UNKNOWN_CLIENT, TrustedClients

SECRET = b"k" * 32
NOW = 1_800_000_000.0


def claims(**over: Any) -> dict[str, Any]:
    base = {"iss": "skysail", "aud": "Moonraker", "iat": int(NOW), "exp": int(NOW) + 60,
            "username": "u", "token_type": "access", "sid": "s", "jti": "j"}
    base.update(over)
    return base


def decode(token: str, **kw: Any) -> dict[str, Any]:
    return webtoken.decode(token, SECRET, now=kw.pop("now", NOW), issuer="skysail",
                           token_type=kw.pop("token_type", "access"))


def raw_token(header: dict[str, Any], payload: dict[str, Any], secret: bytes = SECRET,
              alg: str = "sha256") -> str:
    h = webtoken.b64url_encode(json.dumps(header).encode())
    p = webtoken.b64url_encode(json.dumps(payload).encode())
    sig = hmac.new(secret, f"{h}.{p}".encode(), getattr(hashlib, alg)).digest()
    return f"{h}.{p}.{webtoken.b64url_encode(sig)}"


def test_jwt_round_trip() -> None:
    token = webtoken.encode(claims(), SECRET)
    assert decode(token)["username"] == "u"


@pytest.mark.parametrize("over", [
    {"iss": "other"}, {"aud": "x"}, {"token_type": "refresh"}, {"exp": int(NOW)},
    {"exp": int(NOW) - 1}, {"iat": int(NOW) + 3600}, {"exp": "9999999999"}, {"exp": True},
    {"username": None}, {"sid": 5},
])
def test_jwt_claims_are_checked(over: dict[str, Any]) -> None:
    with pytest.raises(webtoken.TokenError):
        decode(webtoken.encode(claims(**over), SECRET))


@pytest.mark.parametrize("header", [
    {"alg": "none", "typ": "JWT"}, {"alg": "HS512", "typ": "JWT"}, {"alg": "hs256"},
    {"alg": "RS256"}, {"alg": "EdDSA"}, {"typ": "JWT"}, {"alg": "HS256", "typ": "JWS"},
    {"alg": "HS256", "crit": ["exp"]}, {"alg": "HS256", "jku": "http://evil"},
])
def test_only_hs256_headers_pass(header: dict[str, Any]) -> None:
    with pytest.raises(webtoken.TokenError):
        decode(raw_token(header, claims()))


def test_alg_none_with_empty_signature_fails() -> None:
    h = webtoken.b64url_encode(b'{"alg":"none","typ":"JWT"}')
    p = webtoken.b64url_encode(json.dumps(claims()).encode())
    for token in (f"{h}.{p}.", f"{h}.{p}"):
        with pytest.raises(webtoken.TokenError):
            decode(token)


def test_tampering_and_wrong_keys_fail() -> None:
    token = webtoken.encode(claims(), SECRET)
    h, p, s = token.split(".")
    evil = webtoken.b64url_encode(json.dumps(claims(username="admin")).encode())
    bad_utf8 = webtoken.b64url_encode(b'{"alg":"\xd0\xd0"}')
    for bad in (f"{h}.{evil}.{s}", f"{h}.{p}.{s[:-2]}", f"{h}.{p}.{s}x",
                raw_token({"alg": "HS256"}, claims(), secret=b"other"),
                raw_token({"alg": "HS256"}, claims(), alg="sha512"),
                f"{h}.{p}.{base64.urlsafe_b64encode(b'x' * 32).decode()}",
                token + "=", token.replace(".", "+", 1), " " + token,
                token[:-1] + chr(ord(s[-1]) ^ 1), "a.b.c.d", "", "...",
                f"{webtoken.b64url_encode(bytes([0xA0, 0xD0, 0x80]))}.{p}.{s}",
                f"{bad_utf8}.{p}.{s}",
                "x" * 5000):
        with pytest.raises(webtoken.TokenError):
            decode(bad)


def test_password_hashing() -> None:
    stored = passwords.hash_password("s3cret")
    assert stored.startswith("scrypt$16384$8$1$") and "s3cret" not in stored
    assert passwords.verify_password("s3cret", stored)
    assert not passwords.verify_password("s3cret ", stored)
    assert passwords.hash_password("s3cret") != stored  # salted
    for broken in ("", "scrypt$1$1$1$00$00", "plain", "scrypt$x$8$1$00$00",
                   "scrypt$16384$8$1$zz$00", "pbkdf2$16384$8$1$00$00",
                   "scrypt$1073741824$8$1$00$00"):
        assert not passwords.verify_password("s3cret", broken)
    assert not passwords.verify_password("x", passwords.DUMMY_HASH)


async def test_trusted_clients_parsing_and_resolution() -> None:
    trust = TrustedClients(["192.168.1.5", "10.0.0.0/8", "fd00::/8", "printer.local",
                            "10.0.0.1/8", "not a host!", "::ffff:172.16.0.9"])
    assert trust.is_trusted("192.168.1.5") and trust.is_trusted("10.200.3.4")
    assert trust.is_trusted("fd12::1") and trust.is_trusted("::ffff:10.1.1.1")
    assert trust.is_trusted("172.16.0.9")
    assert not trust.is_trusted("192.168.1.6") and not trust.is_trusted("")
    assert not trust.is_trusted("garbage") and not trust.is_trusted(UNKNOWN_CLIENT)
    assert len(trust.warnings) == 2

    async def fake(host: str) -> list[str]:
        assert host == "printer.local"
        return ["192.168.7.7", "fe80::1"]

    await trust.resolve(fake)
    assert trust.is_trusted("192.168.7.7") and trust.is_trusted("fe80::1")

    async def failing(host: str) -> list[str]:
        raise OSError("no such host")

    other = TrustedClients(["nowhere.invalid"])
    await other.resolve(failing)
    assert "could not be resolved" in other.warnings[0]


def test_client_ip_behind_proxy() -> None:
    trust = TrustedClients(["127.0.0.1", "10.0.0.0/8"])
    assert trust.client_ip("127.0.0.1", {"X-Forwarded-For": "8.8.8.8"}) == "8.8.8.8"
    assert trust.client_ip("127.0.0.1", {"X-Forwarded-For": "1.1.1.1, 8.8.8.8"}) == "8.8.8.8"
    assert trust.client_ip("127.0.0.1", {"X-Forwarded-For": "8.8.8.8, 10.1.1.1"}) == "8.8.8.8"
    assert trust.client_ip("127.0.0.1", {"X-Forwarded-For": "10.1.1.1"}) == "10.1.1.1"
    assert trust.client_ip("127.0.0.1", {"X-Forwarded-For": "x, 10.1.1.1"}) == UNKNOWN_CLIENT
    assert trust.client_ip("8.8.4.4", {"X-Forwarded-For": "10.1.1.1"}) == "8.8.4.4"
    assert trust.client_ip("127.0.0.1", {"X-Real-Ip": "8.8.8.8"}) == "8.8.8.8"
    assert trust.client_ip("127.0.0.1", {"X-Real-Ip": "junk"}) == "127.0.0.1"


def test_cors_patterns() -> None:
    cors = CorsPolicy(["http://*.local", "https://my.host:8443", "http://*.lan:*", "*",
                       "http://x.*", "ftp://a.b"])
    # "*" alone is Moonraker's allow-everything, not a pattern; the other two are refused
    assert len(cors.patterns) == 3 and len(cors.warnings) == 2 and cors.any_origin
    assert cors.listed("http://printer.local") and cors.listed("http://a.b.local")
    assert cors.listed("HTTP://Printer.Local")
    assert not cors.listed("http://printer.local.evil.com")
    assert not cors.listed("https://printer.local") and not cors.listed("http://local")
    assert cors.listed("https://my.host:8443") and not cors.listed("https://my.host")
    assert cors.listed("http://a.lan:80")
    assert not cors.listed("http://evil.com/.local")
    headers = cors.response_headers({"Origin": "http://192.168.1.9"}, lambda ip: True)
    assert headers["Access-Control-Allow-Origin"] == "http://192.168.1.9"
    assert "Access-Control-Allow-Credentials" not in headers
    strict = CorsPolicy(["http://*.local"])
    assert not strict.any_origin
    assert strict.response_headers({"Origin": "https://evil.example"}, lambda ip: False) == {
        "Vary": "Origin"}
    anything = cors.response_headers({"Origin": "https://evil.example"}, lambda ip: False)
    assert anything["Access-Control-Allow-Origin"] == "https://evil.example"
    assert "Access-Control-Allow-Credentials" not in anything
    assert same_origin("http://printer:7125", "PRINTER:7125")
    assert not same_origin("http://printer:7125", "printer")


def test_oneshot_tokens() -> None:
    clock = Clock()
    clock.freeze()
    tokens = OneShotTokens(clock)
    user = {"username": "u"}
    a = tokens.issue("1.2.3.4", user)
    assert tokens.redeem(a, "1.2.3.4") == user
    assert tokens.redeem(a, "1.2.3.4") is None
    b = tokens.issue("1.2.3.4", user)
    clock.advance(5.0)
    assert tokens.redeem(b, "1.2.3.4") is None
    c = tokens.issue("1.2.3.4", user)
    assert tokens.redeem(c, "1.2.3.5") is None
    assert tokens.redeem(c, "1.2.3.4") is None
    for _ in range(3000):
        tokens.issue("1.2.3.4", user)
    assert len(tokens._tokens) <= 1024

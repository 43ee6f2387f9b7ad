"""Password hashing with scrypt (memory-hard), a random salt per user.

Stored form: `scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>`, so the cost can be raised later
without invalidating existing hashes. Passwords are never stored or logged in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

# 16 MiB of memory per hash (128 * r * n), ~50 ms on a Raspberry Pi 4 class CPU
N = 2**14
R = 8
P = 1
KEY_LENGTH = 32
SALT_BYTES = 16
MAX_PASSWORD_LENGTH = 1024
_MAX_MEMORY = 64 * 1024 * 1024


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8", "surrogatepass"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=_MAX_MEMORY,
        dklen=KEY_LENGTH,
    )


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _derive(password, salt, N, R, P)
    return f"scrypt${N}${R}${P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches `stored`; a malformed stored value never matches."""
    try:
        scheme, n_text, r_text, p_text, salt_hex, digest_hex = stored.split("$")
        n, r, p = int(n_text), int(r_text), int(p_text)
        salt, digest = bytes.fromhex(salt_hex), bytes.fromhex(digest_hex)
    except ValueError:
        return False
    if scheme != "scrypt" or not (2 <= n <= 2**20 and 1 <= r <= 32 and 1 <= p <= 16):
        return False
    return hmac.compare_digest(_derive(password, salt, n, r, p), digest)


# verified against when the user does not exist, so that timing does not reveal names
DUMMY_HASH = f"scrypt${N}${R}${P}${'00' * SALT_BYTES}${'00' * KEY_LENGTH}"

"""Passwords (argon2), access tokens (JWT) and organisation API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.concurrency import run_in_threadpool

API_KEY_PREFIX = "afk_"
_hasher = PasswordHasher()
# Verifying against this when the account does not exist keeps the timing the same.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
JWT_ALGORITHM = "HS256"


async def hash_password(password: str) -> str:
    """An argon2id hash; computed off the event loop (it is deliberately slow)."""
    return await run_in_threadpool(_hasher.hash, password)


async def verify_password(password: str, password_hash: str | None) -> bool:
    """True when the password matches; always spends the same effort, even with no hash."""

    def verify() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
        except (VerificationError, InvalidHashError):
            return False

    return await run_in_threadpool(verify)


def derive_key(master_secret: str, purpose: str) -> bytes:
    """A key for one purpose, derived from the master secret so purposes never share a key."""
    return hmac.new(master_secret.encode(), purpose.encode(), hashlib.sha256).digest()


def issue_access_token(user_id: uuid.UUID, *, master_secret: str, minutes: int) -> str:
    now = datetime.now(UTC)
    claims = {"sub": str(user_id), "iat": now, "exp": now + timedelta(minutes=minutes)}
    return jwt.encode(claims, derive_key(master_secret, "jwt"), algorithm=JWT_ALGORITHM)


def read_access_token(token: str, *, master_secret: str) -> uuid.UUID | None:
    """The user id in a valid, unexpired token; None for anything else."""
    try:
        claims = jwt.decode(
            token,
            derive_key(master_secret, "jwt"),
            algorithms=[JWT_ALGORITHM],
            options={"require": ["sub", "exp"]},
        )
        return uuid.UUID(str(claims["sub"]))
    except (jwt.PyJWTError, ValueError):
        return None


def new_api_key() -> tuple[str, str, str]:
    """A fresh key: (the key shown once, its display prefix, the hash that is stored)."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    return key, key[:12], hash_api_key(key)


def hash_api_key(key: str) -> str:
    # A key has 256 bits of entropy, so a plain SHA-256 cannot be brute-forced.
    return hashlib.sha256(key.encode()).hexdigest()

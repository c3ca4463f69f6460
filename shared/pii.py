"""Personal data at rest: national IDs are stored encrypted and found through a keyed hash.

The encryption key and the lookup key are derived from ``AUTOFIN_SECRET_KEY`` for their own
purposes. A keyed hash (not a plain SHA-256) matters: the ID space is small enough to
enumerate, so an unkeyed hash would be as good as the ID itself to anyone holding the table.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.identity.security import derive_key
from shared.settings import get_settings

_NONCE_BYTES = 12


def _key(purpose: str) -> bytes:
    return derive_key(get_settings().resolved_secret_key(), purpose)


def lookup_hash(value: str) -> str:
    """A stable keyed hash of ``value`` to find records by it without storing it."""
    return hmac.new(_key("pii-lookup"), value.encode(), hashlib.sha256).hexdigest()


def encrypt(value: str) -> str:
    """AES-256-GCM with a random nonce; the result is text safe to store."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(_key("pii-encryption")).encrypt(nonce, value.encode(), b"autofin-pii")
    return base64.b64encode(nonce + sealed).decode()


def decrypt(token: str) -> str:
    raw = base64.b64decode(token)
    plain = AESGCM(_key("pii-encryption")).decrypt(
        raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], b"autofin-pii"
    )
    return plain.decode()


def mask_national_id(national_id: str) -> str:
    """Show the first three and the last two characters only: 110***********1X."""
    return national_id[:3] + "*" * (len(national_id) - 5) + national_id[-2:]

"""Seal a value so that only the holder of a given secret can open it (AES-256-GCM, key derived
from the secret). The refresh grace keeps the pair it issued this way: the store never holds a
usable credential, only a box that the consumed refresh token's own secret opens."""
from __future__ import annotations

import base64
import hashlib
import os

_CONTEXT = b"studio refresh successor v1\x00"  # domain separation from the stored secret hash


def _key(secret: str) -> bytes:
    return hashlib.sha256(_CONTEXT + secret.encode()).digest()


def seal(secret: str, plaintext: bytes, associated: bytes) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    return base64.b64encode(nonce + AESGCM(_key(secret)).encrypt(nonce, plaintext, associated)).decode()


def open_sealed(secret: str, box: str, associated: bytes) -> bytes | None:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        raw = base64.b64decode(box)
        return AESGCM(_key(secret)).decrypt(raw[:12], raw[12:], associated)
    except (InvalidTag, ValueError):
        return None

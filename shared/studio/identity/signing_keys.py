"""The built-in issuer's key ring: Ed25519 keys, private halves in the secret store,
public halves published as JWKS in the document store.

Rotation adds a key and makes it current; older keys stay in the JWKS (up to KEEP),
so tokens signed before a rotation keep verifying: nobody is logged out.
"""
from __future__ import annotations

import base64
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from studio.kernel import errors
from studio.ports.secrets import SecretStore
from studio.ports.store import DocumentStore, Transaction

JWKS_PATH = "system/jwks"
KEEP = 3
ALG = "EdDSA"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: Any  # cryptography Ed25519PrivateKey


class KeyRing:
    def __init__(self, store: DocumentStore, secret_store: SecretStore | Callable[[], SecretStore], *,
                 max_age_s: int, cache_s: float = 60.0) -> None:
        self._store = store
        # A factory is asked on first use: verifying a token reads only the public half (JWKS), so
        # the first authenticated request does not open the secret store (cold start, decision 0081).
        self._secret_store = secret_store
        self._max_age_s = max_age_s
        self._cache_s = cache_s
        self._lock = threading.Lock()
        self._jwks: dict[str, Any] | None = None
        self._loaded_at = 0.0
        self._private: dict[str, Any] = {}

    # -- public half -------------------------------------------------------
    def jwks(self, *, refresh: bool = False) -> dict[str, Any]:
        with self._lock:
            if refresh or self._jwks is None or time.monotonic() - self._loaded_at > self._cache_s:
                doc = self._store.get(JWKS_PATH)
                self._jwks = doc.data if doc else {"keys": [], "current": None}
                self._loaded_at = time.monotonic()
            return self._jwks

    def public_jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [{k: v for k, v in key.items() if k != "created"} for key in self.jwks()["keys"]]}

    # -- private half ------------------------------------------------------
    @property
    def _secrets(self) -> SecretStore:
        if callable(self._secret_store):
            self._secret_store = self._secret_store()
        return self._secret_store

    def current(self) -> SigningKey:
        ring = self.jwks()
        current = next((k for k in ring["keys"] if k["kid"] == ring.get("current")), None)
        if current is None or time.time() - float(current["created"]) > self._max_age_s:
            self.rotate(force=False)
            ring = self.jwks(refresh=True)
            current = next(k for k in ring["keys"] if k["kid"] == ring["current"])
        return SigningKey(current["kid"], self._private_key(current["kid"]))

    def _private_key(self, kid: str) -> Any:
        key = self._private.get(kid)
        if key is None:
            from cryptography.hazmat.primitives.serialization import load_pem_private_key

            try:
                pem = self._secrets.get(_secret_name(kid))
            except errors.NotFound:
                raise errors.Unavailable(f"signing key {kid} is missing from the secret store") from None
            key = load_pem_private_key(pem, password=None)
            self._private[kid] = key
        return key

    def rotate(self, *, force: bool = True) -> str:
        """Add a new current key. Safe when two instances race: one JWKS write wins."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        key = Ed25519PrivateKey.generate()
        kid = "k_" + secrets.token_hex(8)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        self._secrets.put(_secret_name(kid), pem)
        raw_public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw_public), "kid": kid, "alg": ALG, "use": "sig",
               "created": str(time.time())}

        def publish(tx: Transaction) -> str:
            doc = tx.get(JWKS_PATH)
            keys = list(doc.data["keys"]) if doc else []
            current = next((k for k in keys if doc and k["kid"] == doc.data.get("current")), None)
            if not force and current is not None and time.time() - float(current["created"]) < self._max_age_s:
                return str(current["kid"])  # another instance rotated first: adopt its key, push none out
            tx.put(JWKS_PATH, {"keys": (keys + [jwk])[-KEEP:], "current": kid})
            return kid

        winner = str(self._store.run_transaction(publish))
        if winner != kid:
            self._secrets.delete(_secret_name(kid))  # ours was never published
        else:
            self._private[kid] = key
        self.jwks(refresh=True)
        return winner


def _secret_name(kid: str) -> str:
    return "jwt-signing-key-" + kid.replace("_", "-")


def jwk_to_public_key(jwk: dict[str, Any]) -> Any:
    from studio.identity.eddsa_jwt import public_key  # not PyJWT's OKPAlgorithm: cold start (decision 0081)

    return public_key(jwk)

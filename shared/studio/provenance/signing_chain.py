"""The deployment's C2PA signing credentials: an ES256 (P-256) leaf certificate and its root, kept in
the secret store under one name (decision 0048).

Locally the first signature generates the chain (a root CA and a leaf it issues) and stores it as a
new version of ``c2pa-signing``; on Google Cloud the same port reads Secret Manager, where ops may put
a chain issued by a real C2PA-trusted CA instead (same JSON shape). Two instances racing to generate
each add a version, then both re-read the latest: they converge on one chain, and a file signed in
between with the other one still carries its own chain (and its root stays a trust anchor).
"""
from __future__ import annotations

import datetime
import json
import threading
from dataclasses import dataclass

from studio.kernel import errors
from studio.kernel.deps import Deps, Slot
from studio.ports.secrets import SecretStore

SECRET_NAME = "c2pa-signing"
ORGANIZATION = "Studio platform"
LEAF_DAYS = 825  # CA/B-style maximum for a leaf; the root outlives several leaves
ROOT_DAYS = 3650


@dataclass(frozen=True)
class SigningMaterial:
    key_pem: bytes  # the leaf's private key, PKCS#8 PEM
    chain_pem: bytes  # leaf first, then the root: what C2PA embeds in the signature
    root_pem: bytes


def generate_material(common_name: str = "Studio C2PA signer") -> SigningMaterial:
    """A fresh root CA and an ES256 leaf meeting C2PA's certificate profile (digitalSignature,
    emailProtection EKU, not a CA, issued by the root)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION)])

    def usage(*, sign: bool, ca: bool) -> x509.KeyUsage:
        return x509.KeyUsage(digital_signature=sign, content_commitment=False, key_encipherment=False,
                             data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                             encipher_only=False, decipher_only=False)

    now = datetime.datetime.now(datetime.UTC)
    start = now - datetime.timedelta(minutes=5)  # a verifier whose clock runs a little behind
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (x509.CertificateBuilder().subject_name(name("Studio C2PA root")).issuer_name(name("Studio C2PA root"))
            .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(now + datetime.timedelta(days=ROOT_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(usage(sign=False, ca=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256()))
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(name(common_name)).issuer_name(root.subject)
            .public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(now + datetime.timedelta(days=LEAF_DAYS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage(sign=True, ca=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    root_pem = root.public_bytes(pem)
    return SigningMaterial(
        key_pem=leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        chain_pem=leaf.public_bytes(pem) + root_pem, root_pem=root_pem)


def _encode(material: SigningMaterial) -> bytes:
    return json.dumps({"key_pem": material.key_pem.decode(), "chain_pem": material.chain_pem.decode(),
                       "root_pem": material.root_pem.decode()}).encode()


def _decode(raw: bytes) -> SigningMaterial:
    try:
        body = json.loads(raw)
        return SigningMaterial(body["key_pem"].encode(), body["chain_pem"].encode(), body["root_pem"].encode())
    except (ValueError, KeyError, TypeError, AttributeError):
        raise errors.Unavailable(f"secret {SECRET_NAME} does not hold a C2PA signing chain") from None


class SigningChain:
    """The instance's view of the signing secret: loaded once, generated on first use if absent."""

    def __init__(self, secrets: SecretStore) -> None:
        self._secrets = secrets
        self._lock = threading.Lock()
        self._current: SigningMaterial | None = None
        self._anchors: bytes | None = None

    def current(self) -> SigningMaterial:
        with self._lock:
            if self._current is None:
                try:
                    raw = self._secrets.get(SECRET_NAME)
                except errors.NotFound:
                    self._secrets.put(SECRET_NAME, _encode(generate_material()))
                    raw = self._secrets.get(SECRET_NAME)  # the latest: a racing instance's, if it won
                    self._anchors = None
                self._current = _decode(raw)
            return self._current

    def trust_anchors(self) -> bytes:
        """Every root this deployment has signed under (all enabled versions), as one PEM bundle."""
        self.current()
        with self._lock:
            if self._anchors is None:
                roots: list[bytes] = []
                for version in self._secrets.versions(SECRET_NAME):
                    try:
                        root = _decode(self._secrets.get(SECRET_NAME, version)).root_pem
                    except errors.NotFound:  # a disabled version: its files no longer count as ours
                        continue
                    if root not in roots:
                        roots.append(root)
                self._anchors = b"".join(roots)
            return self._anchors


CHAIN: Slot[SigningChain] = Slot("provenance.signing_chain")


def signing_chain(deps: Deps) -> SigningChain:
    return deps.memo(CHAIN, lambda: SigningChain(deps.secrets))

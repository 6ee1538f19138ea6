"""Password policy and argon2id hashing (argon2-cffi, imported on first use: cold start)."""
from __future__ import annotations

import threading
from typing import Any

from studio.identity.errors import WEAK_PASSWORD
from studio.kernel import errors

MIN_LENGTH = 10
_COMMON = {"password", "password1", "passw0rd", "qwertyuiop", "1234567890", "letmein123", "iloveyou12",
           "administrator", "welcome123", "changeme12"}

_hasher: Any = None
_lock = threading.Lock()


def _argon2() -> Any:
    global _hasher
    with _lock:
        if _hasher is None:
            from argon2 import PasswordHasher

            _hasher = PasswordHasher()  # RFC 9106 low-memory profile defaults
    return _hasher


def check_policy(password: str, email: str) -> None:
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"at least {MIN_LENGTH} characters")
    classes = sum([any(c.islower() for c in password), any(c.isupper() for c in password),
                   any(c.isdigit() for c in password), any(not c.isalnum() for c in password)])
    if classes < 2:
        problems.append("at least two of: lower case, upper case, digits, symbols")
    name = email.split("@")[0].lower()
    if password.lower() in _COMMON or (len(name) >= 4 and name in password.lower()):
        problems.append("not a common password nor your email name")
    if problems:
        raise errors.StudioError(
            WEAK_PASSWORD, "password needs " + "; ".join(problems),
            errors=[{"field": "body.password", "message": p} for p in problems],
        )


def hash_password(password: str) -> str:
    return str(_argon2().hash(password))


def verify_password(stored_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(_argon2().verify(stored_hash, password))
    except (VerificationError, InvalidHashError):
        return False


_DUMMY: list[str] = []


def burn_time(password: str) -> None:
    """Verify against a dummy hash so an unknown email costs as long as a wrong password."""
    if not _DUMMY:
        _DUMMY.append(hash_password("dummy-password-for-timing"))
    verify_password(_DUMMY[0], password)

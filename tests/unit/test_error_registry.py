"""Error codes: the kernel registers its own, each domain its own, and the domain registry
(studio.domains) gathers them all for OpenAPI and docs/errors.md."""
from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import studio
from infra.errors_doc import DOC, owners, render
from studio import domains
from studio.kernel import errors

SHARED = Path(studio.__file__).parent
# The platform, as opposed to the domains: a code only these raise is the kernel's to keep.
PLATFORM = [SHARED / "kernel", SHARED / "ports", SHARED / "adapters", SHARED / "bootstrap.py",
            SHARED.parents[1] / "infra" / "localrun"]


def _platform_sources() -> str:
    files = [p for root in PLATFORM for p in ([root] if root.is_file() else sorted(root.rglob("*.py")))]
    return "\n".join(p.read_text() for p in files)


def test_docs_errors_md_is_in_sync_with_the_registry() -> None:
    assert DOC.read_text() == render(), "run `python -m infra.errors_doc`"


def test_codes_are_upper_snake_with_http_statuses() -> None:
    for code in domains.error_codes().values():
        assert re.fullmatch(r"[A-Z][A-Z0-9_]+", code.code)
        assert 400 <= code.status <= 599


def test_a_code_cannot_be_registered_twice_with_another_meaning() -> None:
    with pytest.raises(ValueError):
        errors.register("NOT_FOUND", 410, "Gone")


def test_no_code_escapes_the_registry() -> None:
    """Whatever any module of the library registers is listed: in the kernel or a domain's errors module."""
    for module in pkgutil.walk_packages(studio.__path__, "studio."):
        importlib.import_module(module.name)
    stray = sorted(set(errors.registry()) - set(domains.error_codes()))
    assert not stray, f"register {stray} in studio/kernel/errors.py or in the errors.py its domain's row names"
    assert set(errors.registry()) == set(domains.error_codes())


def test_the_kernel_keeps_only_the_codes_the_platform_raises() -> None:
    """A code only a domain raises belongs in that domain's errors module, not in the kernel's."""
    kernel_codes = domains.error_codes(rows=())
    source = _platform_sources()
    definitions = {code: len(re.findall(rf"^{code} = register\(", source, re.M)) for code in kernel_codes}
    unused = sorted(code for code in kernel_codes
                    if len(re.findall(rf"\b{code}\b", source)) <= definitions[code])
    assert not unused, f"only domains raise {unused}: move each to studio/<domain>/errors.py"


def test_domain_codes_live_in_their_domain_and_keep_their_values() -> None:
    """Clients depend on code values and statuses: moving a code out of the kernel changes neither."""
    who = owners()
    identity = {c.code: c.status for c in domains.domain("identity").load_error_codes()}
    assert identity == {"INVALID_CREDENTIALS": 401, "REFRESH_TOKEN_INVALID": 401, "REFRESH_TOKEN_REUSED": 401,
                        "EMAIL_TAKEN": 409, "LAST_OWNER": 409, "WEAK_PASSWORD": 422,
                        # accounts (decisions 0022, 0023)
                        "EMAIL_UNSAFE": 422, "EMAIL_NOT_VERIFIED": 403, "VERIFICATION_TOKEN_INVALID": 400,
                        "RESET_TOKEN_INVALID": 400, "CURRENT_PASSWORD_INCORRECT": 403, "ACCOUNT_NOT_LOCAL": 409,
                        "INVITATION_NOT_PENDING": 409, "LOGIN_THROTTLED": 429}
    assert {code for code, owner in who.items() if owner == "identity"} == set(identity)
    assert not set(identity) & set(domains.error_codes(rows=())), "a domain code is still in the kernel"


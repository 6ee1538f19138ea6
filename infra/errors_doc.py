"""docs/errors.md from the domain registry's error codes (a test fails when it drifts).
Run `python -m infra.errors_doc` after adding a code."""
from __future__ import annotations

from pathlib import Path

import infra.localrun  # noqa: F401 - puts shared/ on sys.path
from studio import domains
from studio.kernel.errors import ErrorCode

DOC = Path(__file__).resolve().parents[1] / "docs" / "errors.md"


def owners() -> dict[str, str]:
    """code -> who raises it: "kernel" (every function) or the domain that declares it."""
    owner = {code: "kernel" for code in domains.error_codes(rows=())}
    for row in domains.DOMAINS:
        for code in row.load_error_codes():
            owner.setdefault(code.code, row.name)
    return owner


def render() -> str:
    codes: dict[str, ErrorCode] = domains.error_codes()
    owner = owners()
    lines = ["# Error codes", "",
             "Every error is `application/problem+json` (RFC 9457) with `type`, `title`, `status`, `detail`,",
             "`instance`, `code` and `request_id`, plus `errors[]` for field problems and `current_rev` on",
             "revision conflicts. `code` is stable: code against it, not against `title` or `detail`.",
             "`from` says who raises it: the kernel (any route) or one domain (its routes).", "",
             "| code | status | meaning | from |", "|---|---|---|---|"]
    for code in sorted(codes.values(), key=lambda c: (c.status, c.code)):
        lines.append(f"| `{code.code}` | {code.status} | {code.title} | {owner[code.code]} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(render())
    print("wrote", DOC)

"""docs/errors.md from the one error-code registry (a test fails when it drifts).
Run `python -m infra.errors_doc` after adding a code."""
from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import infra.localrun  # noqa: F401 - puts shared/ on sys.path
from studio.kernel import errors

DOC = Path(__file__).resolve().parents[1] / "docs" / "errors.md"


def _load_all_codes() -> None:
    """Codes are registered at import; import every module of the library so none is missed."""
    import studio

    for module in pkgutil.walk_packages(studio.__path__, "studio."):
        if ".adapters." in module.name and "gcp" in module.name:
            continue  # Google clients are optional locally; their codes live in the kernel anyway
        importlib.import_module(module.name)


def render() -> str:
    _load_all_codes()
    lines = ["# Error codes", "",
             "Every error is `application/problem+json` (RFC 9457) with `type`, `title`, `status`, `detail`,",
             "`instance`, `code` and `request_id`, plus `errors[]` for field problems and `current_rev` on",
             "revision conflicts. `code` is stable: code against it, not against `title` or `detail`.", "",
             "| code | status | meaning |", "|---|---|---|"]
    for code in sorted(errors.registry().values(), key=lambda c: (c.status, c.code)):
        lines.append(f"| `{code.code}` | {code.status} | {code.title} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(render())
    print("wrote", DOC)

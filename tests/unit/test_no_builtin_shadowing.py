"""No method (or property) is named after a builtin: ``store.list(...)`` reads as the builtin, and
inside the class a method named ``list`` hides the builtin from every later annotation. ruff's
A003 only reports the second case, and not at all under ``from __future__ import annotations``
(every module here), so this test checks every class of the repository's Python.

Attributes that are fields of a wire format (``id``, ``type`` in API models and events) are data,
not methods, and are left alone. An override that a base class requires is listed below, with why.
"""
from __future__ import annotations

import ast
import builtins
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ROOTS = ("shared", "functions", "infra", "tests", "bench")
BUILTINS = frozenset(name for name in dir(builtins) if not name.startswith("_"))

# (path under the repository, class, method): why the name is not ours to choose.
REQUIRED_OVERRIDES = {
    ("shared/studio/kernel/logs.py", "CloudLoggingFormatter", "format"): "logging.Formatter.format, called by logging",
}


def shadowing_methods(source: str) -> list[tuple[str, str, int]]:
    """(class, method, line) of each method defined in a class body under a builtin's name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name in BUILTINS:
                    found.append((node.name, item.name, item.lineno))
    return found


def _sources() -> list[Path]:
    return sorted(p for root in ROOTS for p in (REPO / root).rglob("*.py") if "__pycache__" not in p.parts)


def test_the_check_sees_methods_properties_and_coroutines_named_after_builtins() -> None:
    source = (
        "class Store:\n"
        "    def list(self) -> None: ...\n"
        "    @property\n"
        "    def id(self) -> str: ...\n"
        "    async def next(self) -> None: ...\n"
        "    def list_names(self) -> None: ...\n"
        "    id_field: str = ''\n"
    )
    assert shadowing_methods(source) == [("Store", "list", 2), ("Store", "id", 4), ("Store", "next", 5)]


def test_no_method_in_the_repository_shadows_a_builtin() -> None:
    sources = _sources()
    assert any(p.name == "store.py" and p.parent.name == "ports" for p in sources)  # the scan reaches the library
    offenders = [
        f"{path.relative_to(REPO)}:{line} {cls}.{name}"
        for path in sources
        for cls, name, line in shadowing_methods(path.read_text(encoding="utf-8"))
        if (path.relative_to(REPO).as_posix(), cls, name) not in REQUIRED_OVERRIDES
    ]
    assert offenders == [], "rename these (e.g. list -> list_threads), or list a required override with why"


def test_every_listed_override_still_exists() -> None:
    for (path, cls, name) in REQUIRED_OVERRIDES:
        assert (cls, name) in {(c, n) for c, n, _ in shadowing_methods((REPO / path).read_text(encoding="utf-8"))}

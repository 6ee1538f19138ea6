"""A problem's ``detail`` is in our words. An error raised while handling another exception may
use that exception's ``code``, ``detail`` or ``status``, its type's name, or a helper that maps
it to fixed words (kernel/token_errors.py); never its text (``str``, ``repr``, an f-string, its
``message`` or ``args``), which quotes parsers and Google's servers and changes between versions.
The exception still reaches the log: chain it (``raise ... from exc``)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

LIBRARY = Path(__file__).resolve().parents[2] / "shared" / "studio"
ALLOWED_ATTRIBUTES = {"code", "detail", "status", "errors"}  # errors: a StudioError's own field list
TEXT_OF = {"str", "repr", "format", "ascii"}
INTERNAL = {"ClientGone"}  # never leaves the process: a closed connection's reason


def _leaks(source: str) -> list[int]:
    tree = ast.parse(source)
    parent = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    lines: list[int] = []
    for handler in (n for n in ast.walk(tree) if isinstance(n, ast.ExceptHandler) and n.name):
        for stmt in (n for body in handler.body for n in ast.walk(body)):
            if not isinstance(stmt, ast.Raise) or stmt.exc is None:
                continue
            raised = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
            if getattr(raised, "attr", getattr(raised, "id", "")) in INTERNAL:
                continue
            for node in ast.walk(stmt.exc):
                if not (isinstance(node, ast.Name) and node.id == handler.name):
                    continue
                up = parent[node]
                if isinstance(up, ast.Attribute) and up.attr in ALLOWED_ATTRIBUTES:
                    continue
                if isinstance(up, ast.Call) and node in up.args and isinstance(up.func, ast.Name) \
                        and (up.func.id == "type" or up.func.id not in TEXT_OF):
                    continue  # type(exc).__name__, or a helper such as token_refusal(exc)
                lines.append(stmt.lineno)
    return lines


def test_no_error_quotes_the_exception_it_handles() -> None:
    found = {f"{path.relative_to(LIBRARY)}:{line}" for path in LIBRARY.rglob("*.py")
             for line in _leaks(path.read_text())}
    assert not found, f"details built from an exception's text: {sorted(found)}"


@pytest.mark.parametrize("leak", [
    'raise errors.StudioError(errors.TOKEN_INVALID, f"token rejected: {exc}") from None',
    'raise errors.Unavailable(f"store is busy: {exc!r}") from exc',
    'raise errors.StudioError(errors.BAD_REQUEST, f"{what}: {exc.message}") from None',
    'raise _bad("not a CloudEvent: " + str(exc)) from exc',
])
def test_the_check_finds_each_way_of_quoting(leak: str) -> None:
    source = f"try:\n    pass\nexcept ValueError as exc:\n    {leak}\n"
    assert _leaks(source) == [4]


@pytest.mark.parametrize("fine", [
    'raise errors.StudioError(errors.TOKEN_INVALID, token_refusal(exc)) from None',
    'raise errors.Unavailable(f"Cloud Storage {what}: {exc.code} {type(exc).__name__}") from None',
    'raise MalformedDatasetEvent(f"not JSON: {exc.detail}") from exc',
    'raise ClientGone(str(exc)) from exc',
])
def test_the_check_lets_stable_words_through(fine: str) -> None:
    assert _leaks(f"try:\n    pass\nexcept ValueError as exc:\n    {fine}\n") == []

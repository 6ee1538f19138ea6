"""Loads each function's main.py under a unique module name (BLUEPRINT 6: functions-framework
would register every one as module ``main`` and let same-named helpers shadow each other)."""
from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

from infra.localrun.manifest import REPO, FunctionSpec

SHARED = REPO / "shared"


def ensure_library_on_path() -> None:
    """What vendoring does in a deployed zip: make ``studio`` importable."""
    if str(SHARED) not in sys.path:
        sys.path.insert(0, str(SHARED))


def load_module(spec: FunctionSpec) -> ModuleType:
    ensure_library_on_path()
    name = f"studio_fn_{spec.name}"
    if name in sys.modules:
        return sys.modules[name]
    module_spec = importlib.util.spec_from_file_location(name, spec.source)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot load {spec.source}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    module_spec.loader.exec_module(module)
    return module


def entrypoint(spec: FunctionSpec) -> Callable[..., Any]:
    fn = getattr(load_module(spec), spec.entrypoint, None)
    if not callable(fn):
        raise ImportError(f"{spec.source} has no entrypoint {spec.entrypoint!r}")
    return fn  # type: ignore[no-any-return]


def http_app(spec: FunctionSpec) -> Any:
    """The function's HttpApp (its route table feeds OpenAPI and the route tests)."""
    return load_module(spec).app

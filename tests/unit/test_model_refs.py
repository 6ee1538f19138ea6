"""Models named where routes are declared (kernel/model_refs.py, decision 0082): nothing is imported until
a request needs the model, and what the kernel checked at declaration is still checked, at first use."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from studio.kernel.model_refs import ModelRef, RevisionQuery, models
from studio.kernel.routing import Access, Route

REPO = Path(__file__).resolve().parents[2]


def _handler(call: Any) -> Any:
    return None


def test_naming_a_model_imports_nothing() -> None:
    code = ("import sys; from studio.kernel.model_refs import models; from studio.kernel.routing import Router\n"
            "m = models('studio.chat.models'); r = Router('t')\n"
            "r.tenant('POST', '/t', role=__import__('studio.kernel.roles', fromlist=['Role']).Role.MEMBER,"
            " body=m.ThreadIn, response=m.ThreadOut)(lambda call: None)\n"
            "assert 'pydantic' not in sys.modules and 'studio.chat.models' not in sys.modules, sorted(sys.modules)\n"
            "assert r.routes[0].body_model.__name__ == 'ThreadIn' and 'pydantic' in sys.modules\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, env={"PYTHONPATH": str(REPO / "shared")},
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr[-2000:]


def test_the_kernel_reads_the_class_behind_a_name() -> None:
    from studio.chat.models import ThreadIn

    route = Route("POST", "/t", _handler, Access.PUBLIC, body=models("studio.chat.models").ThreadIn)
    assert isinstance(route.body, ModelRef) and route.body_model is ThreadIn
    assert route.query_model is None and route.response_model is None


def test_a_name_that_is_not_a_model_is_refused_when_resolved() -> None:
    with pytest.raises(TypeError, match="not a pydantic model"):
        ModelRef("studio.chat.models", "MessageStatus").resolve()  # a Literal, not a model
    with pytest.raises(AttributeError):
        ModelRef("studio.chat.models", "NoSuchModel").resolve()


def test_a_revisioned_route_without_base_rev_is_still_refused_when_its_models_load() -> None:
    without_base_rev = models("studio.chat.models").ThreadIn
    route = Route("PATCH", "/t/{id}", _handler, Access.PUBLIC, body=without_base_rev, revisioned=True,
                  current_rev=lambda call: 1)  # declared: the models are not imported yet
    with pytest.raises(ValueError, match="base_rev"):
        _ = route.body_model
    fine = Route("DELETE", "/t/{id}", _handler, Access.PUBLIC, query=RevisionQuery, revisioned=True,
                 current_rev=lambda call: 1)
    assert "base_rev" in fine.query_model.model_fields  # type: ignore[union-attr]


def test_what_needs_no_model_is_still_refused_at_declaration() -> None:
    with pytest.raises(ValueError, match="current_rev"):
        Route("PATCH", "/t/{id}", _handler, Access.PUBLIC, body=models("studio.chat.models").ThreadIn,
              revisioned=True)

"""Request and response models named, not imported, where routes are declared (decision 0082).

A route module that imports its models imports pydantic (~45 ms) on the first request of its
function, even a GET that validates nothing. Declared as ``refs.ThreadIn`` on a namespace from
``models("studio.chat.models")``, a model is a ``ModelRef``; the kernel resolves it (imports the
module, takes the class) the first time a request needs it: a body or query to validate, or the
OpenAPI document. Validation is unchanged; only its import moves to where it is used.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel


@dataclass(frozen=True)
class ModelRef:
    """``module:name`` of a pydantic model; ``resolve()`` imports it once."""

    module: str
    name: str

    def resolve(self) -> type[BaseModel]:
        model = getattr(importlib.import_module(self.module), self.name)
        if not (isinstance(model, type) and hasattr(model, "model_validate")):
            raise TypeError(f"{self.module}:{self.name} is not a pydantic model")
        return model  # a BaseModel subclass, checked above


class ModelNamespace:
    """``models("pkg.models").Foo`` -> ``ModelRef("pkg.models", "Foo")``: nothing is imported."""

    def __init__(self, module: str) -> None:
        self._module = module

    def __getattr__(self, name: str) -> ModelRef:
        if name.startswith("__"):
            raise AttributeError(name)
        return ModelRef(self._module, name)


def models(module: str) -> Any:
    """The declaration-side view of a models module (typed Any: each attribute is a ModelRef)."""
    return ModelNamespace(module)


def resolve(model: type[BaseModel] | ModelRef | None) -> type[BaseModel] | None:
    return model.resolve() if isinstance(model, ModelRef) else model


# The query of a revisioned route without a body (base_rev), named like the model it refers to.
RevisionQuery: Any = ModelRef("studio.kernel.api_model", "RevisionQuery")

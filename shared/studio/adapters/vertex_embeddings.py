"""Vertex AI text embeddings through google-genai (``vertexai=True``), imported on first use.

Both models are asked for ``DIM`` output dimensions (Matryoshka-trained, so a truncated vector is still a
good one), so every tenant's vectors fit one Firestore vector index; the rows are re-normalised here
because a truncated vector is no longer unit length.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from studio.ports.embeddings import DIM, EmbeddingError, Purpose

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

MODELS = ("text-embedding-005", "gemini-embedding-001")
BATCH = 50  # texts per request (gemini-embedding-001 takes one per request: batched by the SDK call loop)


class VertexEmbedder:
    name = "vertex"
    default_model = MODELS[0]

    def __init__(self, project: str, location: str, *, client: Any | None = None) -> None:
        self.project = project
        self.location = location
        self._client = client

    def models(self) -> tuple[str, ...]:
        return MODELS

    def _get_client(self) -> Any:
        if self._client is None:
            from google import genai

            self._client = genai.Client(vertexai=True, project=self.project, location=self.location)
        return self._client

    def embed(self, texts: Sequence[str], model: str, *, purpose: Purpose = "document") -> NDArray[np.float32]:
        import numpy as np
        from google.genai import errors as genai_errors
        from google.genai import types

        if model not in MODELS:
            raise EmbeddingError(f"Vertex AI embeddings have no model {model!r} here")
        task = "RETRIEVAL_QUERY" if purpose == "query" else "RETRIEVAL_DOCUMENT"
        config = types.EmbedContentConfig(task_type=task, output_dimensionality=DIM)
        step = 1 if model.startswith("gemini-") else BATCH
        rows: list[list[float]] = []
        try:
            for start in range(0, len(texts), step):
                result = self._get_client().models.embed_content(model=model, contents=list(texts[start:start + step]),
                                                                 config=config)
                rows.extend(list(e.values or []) for e in (result.embeddings or []))
        except genai_errors.APIError as exc:
            raise EmbeddingError(f"Vertex AI embeddings failed: {exc.code}") from None
        m = np.array(rows, dtype=np.float32).reshape(len(texts), DIM)
        norms = np.linalg.norm(m, axis=1, keepdims=True)
        out: NDArray[np.float32] = (m / np.where(norms == 0, 1, norms)).astype(np.float32)
        return out

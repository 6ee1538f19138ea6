"""The embeddings port on every adapter: the local int8 MiniLM and hashing models for real, and Vertex AI
through google-genai against a loopback server that speaks its API (the edge of the machine: no emulator
exists). Each gives unit rows of DIM float32, in the order asked; a provider failure is an EmbeddingError
with a reason, never a crash."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from studio.adapters.local_embeddings import HASHING, MINILM, LocalEmbedder
from studio.adapters.vertex_embeddings import VertexEmbedder
from studio.ports.embeddings import DIM, Embedder, EmbeddingError

seen: list[dict[str, Any]] = []
TEXTS = ["The cat sat on the mat.", "A kitten rested on a rug.", "Quarterly revenue rose by eleven percent."]


def _vector(text: str) -> list[float]:
    """What the fake provider answers: a deterministic vector of DIM floats, not of unit length (the adapter
    normalises, as it must after Vertex truncates to the dimensions asked); equal texts, equal vectors."""
    rng = np.random.default_rng(abs(hash(text)) % 2**32)
    return [float(x) for x in rng.standard_normal(DIM)]


@Request.application
def _vertex(request: Request) -> Response:
    body = json.loads(request.get_data() or b"{}")
    seen.append({"path": request.path, "body": body})
    if "fail" in request.path:
        return Response('{"error": {"code": 429, "message": "quota"}}', status=429, content_type="application/json")
    if request.path.endswith(":predict"):
        predictions = [{"embeddings": {"values": _vector(i["content"]), "statistics": {"token_count": 5}}}
                       for i in body["instances"]]
        return Response(json.dumps({"predictions": predictions}), content_type="application/json")
    if request.path.endswith(":embedContent"):
        texts = [p["text"] for c in ([body["content"]] if "content" in body else body["contents"]) for p in c["parts"]]
        return Response(json.dumps({"embeddings": [{"values": _vector(t)} for t in texts]}),
                        content_type="application/json")
    return Response("not found", status=404)


@pytest.fixture(scope="module")
def provider_url() -> Iterator[str]:
    server = make_server("127.0.0.1", 0, _vertex, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _vertex_client(url: str) -> Any:
    from google import genai
    from google.genai import types
    from google.oauth2.credentials import Credentials

    return genai.Client(vertexai=True, project="p", location="europe-west1", credentials=Credentials(token="t"),
                        http_options=types.HttpOptions(base_url=url))


def _check_rows(embedder: Embedder, model: str) -> np.ndarray:
    rows = embedder.embed(TEXTS, model)
    assert rows.shape == (3, DIM) and rows.dtype == np.float32
    assert np.allclose(np.linalg.norm(rows, axis=1), 1, atol=1e-5)
    again = embedder.embed(list(reversed(TEXTS)), model)  # order kept, whatever the batching
    assert np.allclose(again[::-1], rows, atol=1e-5)
    assert embedder.embed([], model).shape[0] == 0
    return rows


@pytest.mark.parametrize("model", [MINILM, HASHING])
def test_local_models(model: str) -> None:
    rows = _check_rows(LocalEmbedder(), model)
    if model == MINILM:  # by meaning: the cat and the kitten are nearer than the revenue
        assert rows[0] @ rows[1] > rows[0] @ rows[2] + 0.2
    with pytest.raises(EmbeddingError):
        LocalEmbedder().embed(["x"], "no-such-model")


@pytest.mark.parametrize("model", ["text-embedding-005", "gemini-embedding-001"])
def test_vertex_through_google_genai(provider_url: str, model: str) -> None:
    embedder = VertexEmbedder("p", "europe-west1", client=_vertex_client(provider_url))
    _check_rows(embedder, model)
    call = seen[-1]
    assert model in call["path"]
    assert "384" in json.dumps(call["body"])  # output dimensionality asked, so one index fits every model
    embedder.embed(["find this"], model, purpose="query")
    assert "RETRIEVAL_QUERY" in json.dumps(seen[-1]["body"])


def test_vertex_failure_is_an_embedding_error(provider_url: str) -> None:
    embedder = VertexEmbedder("p", "europe-west1", client=_vertex_client(provider_url + "/fail"))
    with pytest.raises(EmbeddingError) as err:
        embedder.embed(["x"], "text-embedding-005")
    assert "429" in err.value.reason
    with pytest.raises(EmbeddingError):
        embedder.embed(["x"], "not-a-vertex-model")

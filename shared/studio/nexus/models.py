"""API shapes of Nexus: inputs forbid unknown fields, outputs carry ``rev`` where revisioned."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, model_validator

from studio.kernel.api_model import MAX_REV, ApiModel

TagStr = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.:-]+$")]
MAX_CONTENT = 800_000  # characters of a body's document (a PDF's base64 included); the body cap is 1 MiB


class _In(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True, allow_inf_nan=False)


class RawDocIn(_In):
    """The document comes in the body (``content``) or from an uploaded media asset (``asset_id``)."""
    title: str | None = Field(default=None, min_length=1, max_length=200,
                              description="Required with content; from an asset, its title or file name by default")
    format: Literal["text", "markdown", "html", "pdf"] | None = Field(
        default=None, description="The content's format (text when omitted); an asset's comes from its bytes")
    content: str | None = Field(default=None, min_length=1, max_length=MAX_CONTENT,
                                description="The text, or a PDF as base64")
    asset_id: str | None = Field(default=None, pattern=r"^as_[0-9a-f]{20}$",
                                 description="A ready document asset of /media-v2 (text, Markdown, HTML or PDF)")
    tags: list[TagStr] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _one_source(self) -> RawDocIn:
        if (self.content is None) == (self.asset_id is None):
            raise ValueError("send either content or asset_id")
        if self.asset_id is not None and self.format is not None:
            raise ValueError("an asset's format is read from its bytes: leave format out")
        if self.content is not None and self.title is None and not isinstance(self, RawDocReplace):
            raise ValueError("a document sent as content needs a title")
        return self


class RawDocReplace(RawDocIn):
    tags: list[TagStr] | None = Field(default=None, max_length=20)  # type: ignore[assignment]
    base_rev: int | None = Field(default=None, ge=0, le=MAX_REV)


class RawDocOut(ApiModel):
    id: str
    title: str
    format: str
    asset_id: str | None = Field(default=None, description="The media asset the document was read from")
    tags: list[str]
    status: Literal["queued", "ready", "failed"]
    run_id: str | None = None
    chars: int
    atoms: int
    cards: int
    error: str | None = None
    rev: int
    created_at: str
    updated_at: str


class AtomOut(ApiModel):
    n: int
    start: int
    end: int
    heading: str


class RawDocDetail(RawDocOut):
    text: str
    atom_list: list[AtomOut]


class RawDocList(ApiModel):
    documents: list[RawDocOut]
    next_page_token: str | None = None


class ListQuery(_In):
    limit: int = Field(default=50, ge=1, le=200)
    page_token: str | None = Field(default=None, max_length=2000)


class CardListQuery(ListQuery):
    tag: str | None = Field(default=None, min_length=1, max_length=40)


class CardIn(_In):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=20_000)
    tags: list[TagStr] = Field(default_factory=list, max_length=20)


class CardPatch(_In):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    body: str | None = Field(default=None, min_length=1, max_length=20_000)
    tags: list[TagStr] | None = Field(default=None, max_length=20)
    base_rev: int | None = Field(default=None, ge=0, le=MAX_REV)


class Author(ApiModel):
    kind: Literal["person", "agent"]
    id: str


class CardOut(ApiModel):
    id: str
    title: str
    body: str
    tags: list[str]
    author: Author
    source: dict[str, Any] | None = None
    origin: Literal["ingest", "manual"]
    models: list[str]
    rev: int
    created_at: str
    updated_at: str


class CardList(ApiModel):
    cards: list[CardOut]
    next_page_token: str | None = None


class SearchQuery(_In):
    q: str = Field(min_length=1, max_length=1_000)
    k: int = Field(default=10, ge=1, le=50)
    mode: Literal["hybrid", "vector", "keyword"] = "hybrid"
    tags: str | None = Field(default=None, max_length=400, description="Comma-separated: cards carrying all of them")


class Scores(ApiModel):
    keyword: float | None = None
    keyword_rank: int | None = None
    vector: float | None = None
    vector_rank: int | None = None


class Provenance(ApiModel):
    origin: str
    author: Author
    source: dict[str, Any] | None = None


class SearchResult(ApiModel):
    card_id: str
    title: str
    tags: list[str]
    score: float
    scores: Scores
    snippet: str
    provenance: Provenance


class SearchOut(ApiModel):
    query: str
    mode: str
    k: int
    model: str
    results: list[SearchResult]
    took_ms: float


class RunOut(ApiModel):
    id: str
    kind: Literal["ingest", "reembed"]
    status: Literal["queued", "running", "done", "failed"]
    doc_id: str | None = None
    model: str | None = None
    counts: dict[str, float]
    error: str | None = None
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None


class RunList(ApiModel):
    runs: list[RunOut]
    next_page_token: str | None = None


class RunListQuery(ListQuery):
    kind: Literal["ingest", "reembed"] | None = None


class ChunkingIn(_In):
    max_tokens: int = Field(ge=32, le=512)
    overlap_tokens: int = Field(ge=0, le=128)
    base_rev: int | None = Field(default=None, ge=0, le=MAX_REV)


class HybridIn(_In):
    keyword_weight: float = Field(ge=0, le=10)
    vector_weight: float = Field(ge=0, le=10)
    rrf_k: int = Field(default=60, ge=1, le=1000)
    base_rev: int | None = Field(default=None, ge=0, le=MAX_REV)


class ModelIn(_In):
    model: str = Field(min_length=1, max_length=100)
    base_rev: int | None = Field(default=None, ge=0, le=MAX_REV)


class ChunkingOut(ApiModel):
    max_tokens: int
    overlap_tokens: int
    rev: int


class HybridOut(ApiModel):
    keyword_weight: float
    vector_weight: float
    rrf_k: int
    rev: int


class ModelOut(ApiModel):
    model: str
    active_model: str
    pending_model: str | None = None
    reembed_run: str | None = None
    available: list[str]
    rev: int


class SettingsOut(ApiModel):
    chunking: ChunkingOut
    hybrid: HybridOut
    model: ModelOut


class PackIn(_In):
    query: str | None = Field(default=None, min_length=1, max_length=2_000)
    thread_id: str | None = Field(default=None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")
    k: int = Field(default=8, ge=1, le=50)
    budget_tokens: int = Field(default=800, ge=16, le=32_000)


class PackCard(ApiModel):
    card_id: str
    title: str
    score: float
    snippet: str
    tokens: int
    provenance: Provenance


class PackOut(ApiModel):
    query: str
    thread_id: str | None = None
    model: str
    cards: list[PackCard]
    budget_tokens: int
    used_tokens: int


class SessionQuery(_In):
    thread_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")
    limit: int = Field(default=50, ge=1, le=200)


class SessionLimit(_In):
    limit: int = Field(default=50, ge=1, le=200)


class NoteIn(_In):
    thread_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")
    text: str = Field(min_length=1, max_length=2_000)


class SnippetOut(ApiModel):
    id: str
    text: str
    seq: int | None = None
    author: str | None = None
    kind: str
    at: str | None = None


class SessionOut(ApiModel):
    thread_id: str
    messages: list[SnippetOut]


class BoardIn(_In):
    content: dict[str, Any] = Field(description="Any JSON object, at most 64 KiB")
    base_rev: int | None = Field(default=None, ge=0, le=MAX_REV)


class BoardOut(ApiModel):
    key: str
    content: dict[str, Any]
    rev: int
    updated_by: str | None = None
    updated_at: str | None = None


class BoardList(ApiModel):
    blackboards: list[BoardOut]
    next_page_token: str | None = None


class SceneQuery(_In):
    dims: int = Field(default=2, ge=2, le=3)
    limit: int = Field(default=500, ge=1, le=2_000)


class ScenePoint(ApiModel):
    card_id: str
    title: str
    tags: list[str]
    cluster: int
    x: float
    y: float
    z: float | None = None


class SceneCluster(ApiModel):
    id: int
    label: str
    size: int
    centroid: dict[str, float]


class SceneOut(ApiModel):
    model: str
    dims: int
    explained_variance: list[float]
    points: list[ScenePoint]
    clusters: list[SceneCluster]


class ExplorerItem(_In):
    title: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=20_000)
    tags: list[TagStr] = Field(default_factory=list, max_length=20)


class ExplorerIngestIn(_In):
    items: list[ExplorerItem] = Field(min_length=1, max_length=50)


class ExplorerIngestOut(ApiModel):
    cards: list[CardOut]

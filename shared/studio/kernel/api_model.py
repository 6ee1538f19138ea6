"""The base of every API model: schemas are built on first use, not at import (cold start), and
no float field takes NaN or Infinity (JSON cannot carry them back out; see kernel/json_input.py)."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from studio.kernel.revisions import MAX_REV as MAX_REV  # kept here for the models that import it


class ApiModel(BaseModel):
    model_config = ConfigDict(defer_build=True, allow_inf_nan=False)


class RevisionQuery(ApiModel):
    """``?base_rev=`` for a revisioned route without a body (a DELETE): AIP-154 puts the etag of a
    delete in its query. ``If-Match`` works there too."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    base_rev: int | None = Field(default=None, ge=0, le=MAX_REV,
                                 description="The revision this write is based on (instead of If-Match)")

"""The base of every API model: schemas are built on first use, not at import (cold start)."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ApiModel(BaseModel):
    model_config = ConfigDict(defer_build=True)

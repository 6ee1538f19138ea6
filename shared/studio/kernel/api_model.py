"""The base of every API model: schemas are built on first use, not at import (cold start), and
no float field takes NaN or Infinity (JSON cannot carry them back out; see kernel/json_input.py)."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ApiModel(BaseModel):
    model_config = ConfigDict(defer_build=True, allow_inf_nan=False)

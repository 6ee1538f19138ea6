"""The shape of an experiment's or flag's key, apart from the models so code checking a key
imports no pydantic (decision 0097)."""
from __future__ import annotations

KEY_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"

"""The shape of a subject's or actor's id, apart from the models so code checking an id imports
no pydantic (decision 0097)."""
from __future__ import annotations

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$"

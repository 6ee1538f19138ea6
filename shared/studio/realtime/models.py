"""Realtime API shapes: the ticket a browser trades for a stream."""
from __future__ import annotations

from pydantic import ConfigDict, Field

from studio.kernel.api_model import ApiModel


class TicketIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)

    thread_id: str = Field(min_length=1, max_length=64, description='A thread id, or "meta" for the meta channel')


class TicketOut(ApiModel):
    ticket: str
    expires_in: int
    thread_id: str

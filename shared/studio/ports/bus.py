"""The message bus port: Pub/Sub semantics, small enough for an embedded adapter.

Semantics every adapter keeps (``tests/contract/bus_contract.py`` checks them):

* at-least-once: a leased message not acked before its ack deadline is delivered again;
* publishing fans out to every subscription of the topic that exists at publish time
  (messages published before a subscription exists are never delivered to it);
* messages sharing a non-empty ``ordering_key`` are delivered one at a time, in publish order;
* ``nack`` retries with exponential backoff; after ``max_attempts`` deliveries the message is
  dead-lettered, kept with its last error, and republished to ``dead_letter_topic`` if given.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class BusMessage:
    message_id: str
    topic: str
    data: bytes
    attributes: dict[str, str] = field(default_factory=dict)
    ordering_key: str = ""
    publish_time: str = ""  # RFC 3339, UTC, "Z" suffix, as Pub/Sub's publishTime


@dataclass(frozen=True)
class Delivery:
    message: BusMessage
    subscription: str
    attempt: int  # 1 on first delivery; ack/nack of a stale attempt is ignored


@runtime_checkable
class Bus(Protocol):
    def publish(
        self,
        topic: str,
        data: bytes,
        attributes: Mapping[str, str] | None = None,
        ordering_key: str = "",
    ) -> str:
        """Store the message durably and return its message_id."""
        ...

    def subscribe(
        self,
        subscription: str,
        topic: str,
        *,
        max_attempts: int = 5,
        ack_deadline_s: float = 30.0,
        dead_letter_topic: str | None = None,
    ) -> None:
        """Declare a subscription (idempotent; settings of an existing one are updated)."""
        ...

    def pull(self, subscription: str, max_messages: int = 10) -> list[Delivery]:
        """Lease up to max_messages deliverable messages until the ack deadline."""
        ...

    def ack(self, delivery: Delivery) -> None: ...

    def nack(self, delivery: Delivery, error: str) -> None:
        """Fail this attempt: retry after backoff, or dead-letter after max_attempts."""
        ...

    def dead_letters(self, subscription: str) -> list[tuple[BusMessage, str]]:
        """Dead-lettered messages of the subscription with their last error, oldest first."""
        ...

    def stats(self, subscription: str) -> dict[str, int]:
        """Counts: pending, in_flight, acked, dead_lettered, redelivered (deliveries after the first)."""
        ...

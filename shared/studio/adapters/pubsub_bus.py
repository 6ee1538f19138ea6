"""The bus port on Google Cloud Pub/Sub (production; the local stand-in is ``sqlite_bus``).

A port topic is a Pub/Sub topic, a port subscription a pull subscription, both ``name_prefix + name``
in ``project``. Subscriptions get message ordering, a retry policy (exponential backoff
``min_backoff_s``..``max_backoff_s``) and always a dead-letter policy: only that makes Pub/Sub report
``delivery_attempt`` (-> ``Delivery.attempt``). Its topic is ``dead_letter_topic`` or, when the caller
names none, ``<subscription>.dead-letter``. ``max_attempts`` lives in the subscription label
``studio-max-attempts`` so every instance, and Terraform-made subscriptions, agree on it.

Dead letters take two paths to that topic. ``nack`` of the final attempt is dead-lettered here: the
message is republished with Pub/Sub's ``CloudPubSubDeadLetter*`` attributes plus the error and the
original message id, then acked (so the port's "last error" survives and ``max_attempts`` below
Pub/Sub's floor of 5 works). Expired leases are Pub/Sub's to forward, after ``max_delivery_attempts`` =
``max_attempts`` clamped to 5..100; below 5, ``pull`` dead-letters a delivery past ``max_attempts``.
``dead_letters(s)`` reads the reader subscription ``<s>.dead-letters`` on the dead-letter topic: it
pulls, keeps what came from ``s`` and releases it again (a best-effort peek for operators).

``create_missing=True`` (emulator, dev) makes topics and subscriptions on demand and updates their
settings. In production Terraform makes them all, readers included (filter
``attributes.CloudPubSubDeadLetterSourceSubscription = "<s>"``); ``subscribe`` only checks.

Where Pub/Sub differs from the port: ``stats`` has only ``dead_lettered`` (the other counts are Cloud
Monitoring metrics, not API data); ack deadlines are clamped to 10..600 s; one pull may hold several
messages of an ordering key (in order; a nack redelivers the key from there); a stale ack id is
accepted and ignored. The emulator ignores retry policies (redelivery is immediate) and filters.

Clients are imported and built on first use (cold start), then cached. Every call has a deadline and
``retry=None``: a failed publish raises ``Unavailable`` and the outbox relay publishes it again.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from studio.kernel import errors
from studio.ports.bus import BusMessage, Delivery

DEAD_LETTER_SUFFIX = ".dead-letter"  # default dead-letter topic: <subscription>.dead-letter
READER_SUFFIX = ".dead-letters"  # the adapter's reader subscription on the dead-letter topic
MAX_ATTEMPTS_LABEL = "studio-max-attempts"
ERROR_ATTR = "studio-dead-letter-error"
MESSAGE_ID_ATTR = "studio-dead-letter-message-id"
# The attributes Pub/Sub puts on a message it dead-letters; this adapter writes the same ones.
_DL = "CloudPubSubDeadLetterSource"
_DL_SOURCE, _DL_COUNT, _DL_PUBLISH_TIME = _DL + "Subscription", _DL + "DeliveryCount", _DL + "TopicPublishTime"
# PublisherClient.publish takes attributes as **kwargs: these names would clash with its parameters.
_RESERVED_ATTRS = frozenset({"topic", "data", "ordering_key", "retry", "timeout"})
_MAX_ATTR_BYTES = 1024  # Pub/Sub's limit on an attribute value
ACK_DEADLINE_RANGE = (10, 600)  # Pub/Sub's accepted ack_deadline_seconds
DELIVERY_ATTEMPTS_RANGE = (5, 100)  # Pub/Sub's accepted max_delivery_attempts


@dataclass(frozen=True)
class PubsubDelivery(Delivery):
    """A Delivery carrying its ack id, so any instance can ack or nack it."""

    ack_id: str = field(default="", repr=False, compare=False)


@dataclass(frozen=True)
class _SubConfig:
    topic: str
    max_attempts: int | None  # None: unknown (no label, no dead-letter policy): Pub/Sub decides
    dead_letter_topic: str | None


def _clamp(value: float, bounds: tuple[int, int]) -> int:
    return int(min(max(round(value), bounds[0]), bounds[1]))


def _rfc3339(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@contextmanager
def _mapped(what: str) -> Iterator[None]:
    """Google errors as studio errors: the caller's mistakes are 4xx, everything else 503."""
    from google.api_core import exceptions as gexc

    try:
        yield
    except gexc.NotFound:
        raise errors.NotFound(f"{what} does not exist") from None
    except gexc.InvalidArgument as exc:
        raise errors.StudioError(errors.BAD_REQUEST, f"Pub/Sub refused {what}") from exc
    except gexc.GoogleAPIError as exc:
        raise errors.Unavailable(f"Pub/Sub {what}: {type(exc).__name__}") from None


class PubsubBus:
    """``studio.ports.bus.Bus`` on Pub/Sub. Thread-safe; one instance per process is enough."""

    def __init__(self, project: str, *, publisher: Any | None = None, subscriber: Any | None = None,
                 create_missing: bool = False, name_prefix: str = "", timeout_s: float = 10.0,
                 pull_wait_s: float = 0.0, min_backoff_s: float = 10.0, max_backoff_s: float = 600.0) -> None:
        self.project = project
        self.name_prefix = name_prefix  # e.g. an environment, or a test's namespace
        self._publisher, self._subscriber = publisher, subscriber
        self._owns_clients = publisher is None, subscriber is None
        self._create_missing = create_missing
        self._timeout_s = timeout_s
        # 0: return at once when nothing is deliverable (the port's non-blocking pull; Google
        # discourages it for throughput). > 0: long-poll up to that many seconds.
        self._pull_wait_s = pull_wait_s
        self._backoff = (min_backoff_s, max_backoff_s)
        self._lock = threading.Lock()
        self._topics: set[str] = set()  # topics known to exist (create_missing only)
        self._subs: dict[str, _SubConfig] = {}

    # -- clients and names ------------------------------------------------------------

    def _pub(self) -> Any:
        with self._lock:
            if self._publisher is None:
                import google.cloud.pubsub_v1 as pubsub_v1

                self._publisher = pubsub_v1.PublisherClient(
                    # publish() waits for each message id anyway: commit batches at once.
                    batch_settings=pubsub_v1.types.BatchSettings(max_latency=0.001),
                    publisher_options=pubsub_v1.types.PublisherOptions(enable_message_ordering=True))
            return self._publisher

    def _sub(self) -> Any:
        with self._lock:
            if self._subscriber is None:
                import google.cloud.pubsub_v1 as pubsub_v1

                self._subscriber = pubsub_v1.SubscriberClient()
            return self._subscriber

    def _topic_path(self, topic: str) -> str:
        return f"projects/{self.project}/topics/{self.name_prefix}{topic}"

    def _sub_path(self, subscription: str) -> str:
        return f"projects/{self.project}/subscriptions/{self.name_prefix}{subscription}"

    def _short(self, path: str) -> str:
        return path.rsplit("/", 1)[-1].removeprefix(self.name_prefix)

    def close(self) -> None:
        """Stop the clients this instance created (injected clients belong to the caller)."""
        if self._owns_clients[0] and self._publisher is not None:
            self._publisher.stop()
        if self._owns_clients[1] and self._subscriber is not None:
            self._subscriber.close()

    # -- topics and subscriptions -------------------------------------------------------

    def _ensure_topic(self, topic: str) -> None:
        if topic in self._topics:
            return
        from google.api_core import exceptions as gexc

        with _mapped(f"topic {topic}"):
            try:
                self._pub().create_topic(name=self._topic_path(topic), timeout=self._timeout_s, retry=None)
            except gexc.AlreadyExists:
                pass
        self._topics.add(topic)

    def _create_or_update(self, spec: Any, fields: list[str]) -> None:
        """Create the subscription, or update those of ``fields`` that differ on an existing one."""
        from google.api_core import exceptions as gexc
        from google.protobuf import field_mask_pb2

        client, name = self._sub(), self._short(spec.name)
        with _mapped(f"subscription {name}"):
            try:
                client.create_subscription(request=spec, timeout=self._timeout_s, retry=None)
                return
            except gexc.AlreadyExists:
                current = client.get_subscription(subscription=spec.name, timeout=self._timeout_s, retry=None)
            if current.topic != spec.topic:
                raise errors.AlreadyExists(f"subscription {name} is bound to topic {self._short(current.topic)}")
            mask = [f for f in fields if getattr(current, f) != getattr(spec, f)]
            while mask:
                try:
                    client.update_subscription(subscription=spec, update_mask=field_mask_pb2.FieldMask(paths=mask),
                                               timeout=self._timeout_s, retry=None)
                    return
                except gexc.InvalidArgument as exc:
                    if "labels" not in mask or "labels" not in str(exc.message):
                        raise
                    # The emulator cannot update labels (Pub/Sub can): this instance's cache still
                    # holds the new max_attempts; other instances read the label set at creation.
                    mask.remove("labels")

    def subscribe(self, subscription: str, topic: str, *, max_attempts: int = 5, ack_deadline_s: float = 30.0,
                  dead_letter_topic: str | None = None) -> None:
        if max_attempts < 1 or ack_deadline_s <= 0:
            raise ValueError("max_attempts must be >= 1 and ack_deadline_s > 0")
        dlt = dead_letter_topic or subscription + DEAD_LETTER_SUFFIX
        if not self._create_missing:  # Terraform owns the resources: only check what exists
            config = self._config(subscription, refresh=True)
            if config.topic != topic:
                raise errors.AlreadyExists(f"subscription {subscription} is bound to topic {config.topic}")
            return
        from google.protobuf import duration_pb2
        from google.pubsub_v1 import types

        for name in (topic, dlt):
            self._ensure_topic(name)
        # The reader exists before the first dead letter can be published to the topic.
        reader = types.Subscription(name=self._sub_path(subscription + READER_SUFFIX),
                                    topic=self._topic_path(dlt), ack_deadline_seconds=60)
        self._create_or_update(reader, ["ack_deadline_seconds"])

        def seconds(value: float) -> Any:
            return duration_pb2.Duration(seconds=int(value), nanos=int(value % 1 * 1e9))

        spec = types.Subscription(
            name=self._sub_path(subscription), topic=self._topic_path(topic),
            ack_deadline_seconds=_clamp(ack_deadline_s, ACK_DEADLINE_RANGE),
            enable_message_ordering=True,  # immutable after creation, so never in the update mask
            dead_letter_policy=types.DeadLetterPolicy(
                dead_letter_topic=self._topic_path(dlt),
                max_delivery_attempts=_clamp(max_attempts, DELIVERY_ATTEMPTS_RANGE)),
            retry_policy=types.RetryPolicy(minimum_backoff=seconds(self._backoff[0]),
                                           maximum_backoff=seconds(self._backoff[1])),
            labels={MAX_ATTEMPTS_LABEL: str(max_attempts)},
        )
        self._create_or_update(spec, ["ack_deadline_seconds", "dead_letter_policy", "retry_policy", "labels"])
        with self._lock:
            self._subs[subscription] = _SubConfig(topic, max_attempts, dlt)

    def _config(self, subscription: str, *, refresh: bool = False) -> _SubConfig:
        config = None if refresh else self._subs.get(subscription)
        if config is None:
            with _mapped(f"subscription {subscription}"):
                sub = self._sub().get_subscription(
                    subscription=self._sub_path(subscription), timeout=self._timeout_s, retry=None)
            policy = sub.dead_letter_policy
            label = sub.labels.get(MAX_ATTEMPTS_LABEL, "")
            max_attempts = int(label) if label.isdigit() else (policy.max_delivery_attempts or None)
            dlt = self._short(policy.dead_letter_topic) if policy.dead_letter_topic else None
            config = _SubConfig(self._short(sub.topic), max_attempts, dlt)
            with self._lock:
                self._subs[subscription] = config
        return config

    # -- publish, pull, ack, nack ---------------------------------------------------------

    def publish(self, topic: str, data: bytes, attributes: Mapping[str, str] | None = None,
                ordering_key: str = "") -> str:
        if not isinstance(data, bytes | bytearray):
            raise TypeError("data must be bytes")
        attrs = dict(attributes or {})
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in attrs.items()):
            raise TypeError("attributes must map str to str")
        if _RESERVED_ATTRS & attrs.keys():
            raise errors.StudioError(errors.BAD_REQUEST, f"attribute names {sorted(_RESERVED_ATTRS)} are reserved")
        if self._create_missing:
            self._ensure_topic(topic)
        return self._publish(self._topic_path(topic), bytes(data), attrs, ordering_key)

    def _publish(self, path: str, data: bytes, attrs: dict[str, str], ordering_key: str) -> str:
        publisher = self._pub()
        try:
            with _mapped(f"topic {self._short(path)}"):
                future = publisher.publish(path, data, ordering_key=ordering_key, retry=None,
                                           timeout=self._timeout_s, **attrs)
                return str(future.result(timeout=self._timeout_s + 5))
        except BaseException as exc:
            if ordering_key:  # a failed ordered publish pauses its key until resumed
                publisher.resume_publish(path, ordering_key)
            if isinstance(exc, TimeoutError):
                raise errors.Unavailable(f"Pub/Sub publish to {self._short(path)} timed out") from None
            raise

    def _pull_all(self, path: str, max_messages: int) -> list[Any]:
        from google.api_core import exceptions as gexc

        wait = self._pull_wait_s
        out: list[Any] = []
        with _mapped(f"subscription {self._short(path)}"):
            # A pull may return fewer than available: top up while it keeps returning messages.
            for _ in range(1 if wait > 0 else 5):
                try:
                    batch = self._sub().pull(
                        subscription=path, max_messages=max_messages - len(out), return_immediately=wait <= 0,
                        timeout=wait if wait > 0 else self._timeout_s, retry=None).received_messages
                except gexc.DeadlineExceeded:
                    if wait <= 0:
                        raise
                    batch = []  # a long poll that found nothing
                out += batch
                if not batch or len(out) >= max_messages:
                    break
        return out

    def pull(self, subscription: str, max_messages: int = 10) -> list[Delivery]:
        config = self._config(subscription)
        out: list[Delivery] = []
        for received in self._pull_all(self._sub_path(subscription), max_messages):
            m = received.message
            message = BusMessage(m.message_id, config.topic, bytes(m.data), dict(m.attributes),
                                 m.ordering_key, _rfc3339(m.publish_time))
            # 0 only without a dead-letter policy (a subscription made outside this adapter).
            delivery = PubsubDelivery(message, subscription, max(1, received.delivery_attempt), received.ack_id)
            if config.max_attempts is not None and delivery.attempt > config.max_attempts:
                self._dead_letter(delivery, "ack deadline exceeded", config)  # the final lease expired
            else:
                out.append(delivery)
        return out

    def _settle(self, subscription: str, ack_ids: list[str], *, ack: bool) -> None:
        """Ack, or nack (ack deadline 0: redelivery after the retry policy's backoff)."""
        if not ack_ids:
            return
        path, client, call = self._sub_path(subscription), self._sub(), {"timeout": self._timeout_s, "retry": None}
        with _mapped(f"subscription {subscription}"):
            if ack:
                client.acknowledge(subscription=path, ack_ids=ack_ids, **call)
            else:
                client.modify_ack_deadline(subscription=path, ack_ids=ack_ids, ack_deadline_seconds=0, **call)

    @staticmethod
    def _ack_id(delivery: Delivery) -> list[str]:
        if not isinstance(delivery, PubsubDelivery) or not delivery.ack_id:
            raise TypeError("not a delivery pulled from Pub/Sub")
        return [delivery.ack_id]

    def ack(self, delivery: Delivery) -> None:
        # A stale or repeated ack id is accepted by Pub/Sub and changes nothing.
        self._settle(delivery.subscription, self._ack_id(delivery), ack=True)

    def nack(self, delivery: Delivery, error: str) -> None:
        config = self._config(delivery.subscription)
        if config.max_attempts is not None and delivery.attempt >= config.max_attempts:
            self._dead_letter(delivery, error, config)
        else:
            self._settle(delivery.subscription, self._ack_id(delivery), ack=False)

    def _dead_letter(self, delivery: Delivery, error: str, config: _SubConfig) -> None:
        """Republish to the dead-letter topic as Pub/Sub would, plus the error; then ack."""
        m = delivery.message
        error = error.encode("utf-8")[:_MAX_ATTR_BYTES].decode("utf-8", "ignore")
        attrs = {**m.attributes, _DL_SOURCE: self.name_prefix + delivery.subscription, _DL_COUNT: str(delivery.attempt),
                 _DL + "SubscriptionProject": self.project, _DL_PUBLISH_TIME: m.publish_time,
                 ERROR_ATTR: error, MESSAGE_ID_ATTR: m.message_id}
        dlt = config.dead_letter_topic or delivery.subscription + DEAD_LETTER_SUFFIX
        self._publish(self._topic_path(dlt), m.data, attrs, m.ordering_key)
        self.ack(delivery)  # after the publish: a crash in between duplicates, never loses

    # -- dead letters, stats, wait ----------------------------------------------------------

    def dead_letters(self, subscription: str) -> list[tuple[BusMessage, str]]:
        config, reader = self._config(subscription), subscription + READER_SUFFIX
        found: dict[str, tuple[BusMessage, str]] = {}
        mine: list[str] = []
        others: list[str] = []
        for _ in range(10):  # at most 1000 per look: an operator's peek, not a drain
            batch = self._pull_all(self._sub_path(reader), 100)
            for received in batch:
                m, attrs = received.message, dict(received.message.attributes)
                # Pub/Sub writes the subscription id (accept a path too). The emulator applies no
                # filters, so a reader may also see other subscriptions' dead letters.
                if attrs.get(_DL_SOURCE, "").rsplit("/", 1)[-1] != self.name_prefix + subscription:
                    others.append(received.ack_id)
                    continue
                mine.append(received.ack_id)
                message = BusMessage(
                    attrs.get(MESSAGE_ID_ATTR) or m.message_id, config.topic, bytes(m.data),
                    {k: v for k, v in attrs.items() if not k.startswith((_DL, "studio-dead-letter-"))},
                    m.ordering_key, attrs.get(_DL_PUBLISH_TIME) or _rfc3339(m.publish_time))
                found[m.message_id] = (message, attrs.get(ERROR_ATTR) or "max delivery attempts exceeded")
            if not batch:
                break
        self._settle(reader, others, ack=True)  # not ours: each source subscription has its own reader
        self._settle(reader, mine, ack=False)  # a peek: release them for the next look
        return sorted(found.values(), key=lambda item: item[0].publish_time)

    def stats(self, subscription: str) -> dict[str, int]:
        """Only what Pub/Sub's API can say. pending, in_flight, acked and redelivered are Cloud
        Monitoring metrics (subscription/num_undelivered_messages, .../ack_message_count, ...)."""
        return {"dead_lettered": len(self.dead_letters(subscription))}

    def wait(self, timeout: float) -> None:
        """Pub/Sub has no publish signal to wake on: just sleep."""
        time.sleep(max(0.0, timeout))

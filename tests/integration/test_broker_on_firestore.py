"""The broker feed on Firestore (decision 0075), as deployed: the runtime's store on Google's Firestore
emulator, feeds woken by a real redis-server instead of Firestore listeners, a reply streamed over SSE
from the hints' payloads and an exact resume."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.firestore_emulator import FirestoreEmulator, emulator_session
from tests.support.redis_server import RedisServer, redis_server  # noqa: F401 - the fixture
from tests.support.reply_resume import assert_a_reply_streams_and_resumes

pytestmark = [pytest.mark.emulator, pytest.mark.slow]


@pytest.fixture(scope="module")
def firestore_emulator(pytestconfig: pytest.Config) -> Iterator[FirestoreEmulator]:
    yield from emulator_session(pytestconfig)


def _the_feed_read_the_broker(c: httpx.Client) -> None:
    """The reply's events came from the broker's hints (decision 0106), with no chunk read of Firestore."""
    health = c.get("/healthz/realtime").json()
    assert health["feed_source"] == "broker" and health["broker_hints"]["delivered"] > 0
    assert health["broker_feed_reads"]["chunks"] == 0


def test_a_reply_streams_and_resumes_through_the_broker_on_firestore(
        tmp_path: Path, firestore_emulator: FirestoreEmulator, redis_server: RedisServer) -> None:  # noqa: F811
    assert_a_reply_streams_and_resumes(tmp_path / "data", after_reply=_the_feed_read_the_broker, STUDIO_STORE="gcp",
                                       GOOGLE_CLOUD_PROJECT="demo-broker", FIRESTORE_EMULATOR_HOST=firestore_emulator.host,
                                       STUDIO_REALTIME_BROKER=redis_server.url, STUDIO_BROKER_SAFETY_POLL_S="60")

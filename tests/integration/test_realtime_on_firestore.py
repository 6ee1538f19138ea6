"""The realtime path on Firestore: the runtime with its store on Google's Firestore emulator
(listeners feed the gateway, as on Google Cloud), a reply streamed over SSE and an exact resume."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.firestore_emulator import FirestoreEmulator, emulator_session
from tests.support.reply_resume import assert_a_reply_streams_and_resumes

pytestmark = [pytest.mark.emulator, pytest.mark.slow]


@pytest.fixture(scope="module")
def firestore_emulator(pytestconfig: pytest.Config) -> Iterator[FirestoreEmulator]:
    yield from emulator_session(pytestconfig)


def test_reply_streams_and_resumes_over_firestore_listeners(tmp_path: Path,
                                                            firestore_emulator: FirestoreEmulator) -> None:
    assert_a_reply_streams_and_resumes(tmp_path / "data", STUDIO_STORE="gcp", GOOGLE_CLOUD_PROJECT="demo-realtime",
                                       FIRESTORE_EMULATOR_HOST=firestore_emulator.host)

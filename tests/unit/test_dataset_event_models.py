"""DatasetEvent shapes: the audit's camelCase on the wire, snake_case in Python, strict validation."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from studio.events.models import (
    MAX_PAYLOAD_BYTES,
    DatasetEvent,
    DatasetEventIn,
    DatasetEventQuery,
    TrainingPrefsIn,
    rfc3339,
)

MINIMAL = {"surface": "chat", "agentId": "agent-1", "input": "hi", "output": {"text": "hello"}}


def stored(**overrides: object) -> dict:
    return {**MINIMAL, "eventId": "dse_" + "a" * 32, "tenantId": "t_abc", "env": "dev",
            "createdAt": "2025-03-01T12:00:00Z", "trainOk": False, **overrides}


def test_input_accepts_camel_and_snake_case():
    camel = DatasetEventIn.model_validate({**MINIMAL, "latencyMs": 5, "sessionId": "s1", "threadId": "th_1"})
    snake = DatasetEventIn.model_validate({"surface": "chat", "agent_id": "agent-1", "input": "hi",
                                           "output": {"text": "hello"}, "latency_ms": 5, "session_id": "s1",
                                           "thread_id": "th_1"})
    assert camel == snake
    assert camel.agent_id == "agent-1" and camel.tenant_id is None and camel.env is None


def test_the_kernel_sees_body_tenant_fields_by_their_python_names():
    # http_app._check_tenant_fields reads ``tenant_id`` / ``env`` attributes of the body.
    event = DatasetEventIn.model_validate({**MINIMAL, "tenantId": "t_abc", "env": "stage"})
    assert (event.tenant_id, event.env) == ("t_abc", "stage")


def test_input_text_is_kept_verbatim():
    event = DatasetEventIn.model_validate({**MINIMAL, "input": "  spaced  \n"})
    assert event.input == "  spaced  \n"


def test_stored_event_serialises_with_the_audit_names():
    event = DatasetEvent.model_validate(stored(piiRedacted=["EMAIL"], userId="u_1"))
    dumped = event.model_dump(mode="json", by_alias=True)
    assert {"tenantId", "env", "surface", "agentId", "input", "output", "userId", "eventId", "createdAt",
            "trainOk", "piiRedacted", "latencyMs", "sessionId", "threadId", "tags", "metadata", "model",
            "provider"} == set(dumped)
    assert DatasetEvent.model_validate(dumped) == event


def test_created_at_is_fixed_width_utc_so_strings_sort_by_time():
    whole = DatasetEvent.model_validate(stored(createdAt="2025-03-01T14:00:00+02:00"))
    assert whole.model_dump(mode="json", by_alias=True)["createdAt"] == "2025-03-01T12:00:00.000000Z"
    later = rfc3339(datetime(2025, 3, 1, 12, 0, 0, 1, tzinfo=UTC))
    assert whole.model_dump(mode="json", by_alias=True)["createdAt"] < later
    assert rfc3339(datetime(2025, 3, 1, 13, tzinfo=timezone(timedelta(hours=1)))) == "2025-03-01T12:00:00.000000Z"


@pytest.mark.parametrize(("change", "field"), [
    ({"surface": ""}, "surface"),
    ({"surface": "has space"}, "surface"),
    ({"agentId": "../etc"}, "agentId"),
    ({"input": None, "output": None, "extra": 1}, "extra"),
    ({"latencyMs": -1}, "latencyMs"),
    ({"tags": [""]}, "tags.0"),
    ({"tags": ["t"] * 33}, "tags"),
    ({"metadata": ["not", "a", "map"]}, "metadata"),
    ({"env": "qa"}, "env"),
    ({"sessionId": "a/b"}, "sessionId"),
])
def test_input_validation_names_the_field(change: dict, field: str):
    with pytest.raises(ValidationError) as info:
        DatasetEventIn.model_validate({**MINIMAL, **change})
    assert field in {".".join(str(p) for p in e["loc"]) for e in info.value.errors()}


def test_input_and_output_are_required_but_may_be_any_json():
    with pytest.raises(ValidationError) as info:
        DatasetEventIn.model_validate({"surface": "chat", "agentId": "a"})
    assert {e["loc"][0] for e in info.value.errors()} == {"input", "output"}
    assert DatasetEventIn.model_validate({**MINIMAL, "input": [1, "two", {"3": None}], "output": None}).output is None


def test_payload_size_is_bounded():
    with pytest.raises(ValidationError, match="exceed"):
        DatasetEventIn.model_validate({**MINIMAL, "input": "x" * MAX_PAYLOAD_BYTES})


@pytest.mark.parametrize(("change", "field"), [
    ({"eventId": "ev_1"}, "eventId"),
    ({"tenantId": "acme"}, "tenantId"),
    ({"env": "stage"}, "env"),  # stored events carry the normalised env only
    ({"createdAt": "2025-03-01T12:00:00"}, "createdAt"),  # no offset: ambiguous
    ({"piiRedacted": ["email"]}, "piiRedacted.0"),
    ({"trainOk": "maybe"}, "trainOk"),
])
def test_stored_event_validation(change: dict, field: str):
    with pytest.raises(ValidationError) as info:
        DatasetEvent.model_validate(stored(**change))
    assert field in {".".join(str(p) for p in e["loc"]) for e in info.value.errors()}


def test_query_filters():
    q = DatasetEventQuery.model_validate({"agentId": "a1", "since": "2025-03-01T00:00:00Z", "limit": "20"})
    assert (q.agent, q.limit, q.since) == ("a1", 20, datetime(2025, 3, 1, tzinfo=UTC))
    assert DatasetEventQuery.model_validate({"agent": "a1"}).agent == "a1"
    for bad in ({"limit": "0"}, {"limit": "501"}, {"since": "2025-03-01"}, {"unknown": "x"},
                {"since": "2025-03-02T00:00:00Z", "until": "2025-03-01T00:00:00Z"}):
        with pytest.raises(ValidationError):
            DatasetEventQuery.model_validate(bad)


def test_training_prefs_input():
    assert TrainingPrefsIn.model_validate({"train_ok": True}).base_rev is None
    for bad in ({}, {"train_ok": True, "base_rev": -1}, {"train_ok": True, "user_id": "u_other"}):
        with pytest.raises(ValidationError):
            TrainingPrefsIn.model_validate(bad)

"""The ledger's hash rule, checked against an independent computation, and its refusals."""
from __future__ import annotations

import hashlib
import json

import pytest

from studio.kernel.errors import StudioError
from studio.provenance.chain_hash import ENTRY_FIELDS, GENESIS, canonical, entry_body, entry_hash
from studio.provenance.ledger import index_fields


def _entry(**over: object) -> dict:
    body = {"seq": 1, "time": "2026-12-01T10:00:00.000000Z", "action": "derive",
            "actor": {"type": "tool", "id": "media_optimizer"}, "subject": {"kind": "asset", "id": "as_1"},
            "inputs": [{"kind": "asset", "id": "as_1", "sha256": "a" * 64}], "params": {"width": 640, "q": 80},
            "outputs": [{"kind": "artifact", "id": "ar_2"}, {"kind": "artifact", "id": "ar_1"}],
            "source_event_id": "ev_1", "prev_hash": GENESIS}
    body.update(over)
    return body


def test_hash_is_sha256_of_prev_hash_and_rfc8785_json() -> None:
    body = _entry()
    # For ASCII strings and small integers RFC 8785 is sorted keys without spaces: an independent spelling.
    expected = hashlib.sha256(GENESIS.encode() + json.dumps(body, sort_keys=True, separators=(",", ":")).encode())
    assert entry_hash(GENESIS, body) == expected.hexdigest()


def test_key_order_and_number_spelling_do_not_change_the_hash() -> None:
    body = _entry()
    reordered = dict(reversed(list(body.items())))
    assert entry_hash(GENESIS, reordered) == entry_hash(GENESIS, body)
    assert entry_hash(GENESIS, _entry(params={"width": 640.0, "q": 80})) == entry_hash(GENESIS, body)
    assert canonical({"x": 1e21}) == b'{"x":1e+21}'  # RFC 8785's ECMAScript number form


def test_every_field_and_the_previous_hash_are_covered() -> None:
    base = entry_hash(GENESIS, _entry())
    for name, value in [("seq", 2), ("time", "2026-12-01T10:00:00.000001Z"), ("action", "edit"),
                        ("actor", {"type": "user", "id": "u_1"}), ("subject", {"kind": "asset", "id": "as_2"}),
                        ("inputs", []), ("params", {"width": 641, "q": 80}), ("outputs", []),
                        ("source_event_id", None)]:
        assert entry_hash(GENESIS, _entry(**{name: value})) != base, name
    assert entry_hash("1" * 64, _entry()) != base
    assert set(entry_body({**_entry(), "hash": "x", "subject_id": "y"})) == set(ENTRY_FIELDS)


@pytest.mark.parametrize("value", [2**53 + 1, float("nan"), float("inf")])
def test_values_canonical_json_cannot_carry_are_refused(value: object) -> None:
    with pytest.raises(StudioError) as raised:
        entry_hash(GENESIS, _entry(params={"v": value}))
    assert raised.value.code.code == "PROVENANCE_UNCANONICAL" and raised.value.code.status == 422


def test_index_fields_follow_the_body() -> None:
    assert index_fields(_entry()) == {"subject_id": "as_1", "actor_id": "media_optimizer", "input_ids": ["as_1"],
                                      "product_ids": ["ar_1", "ar_2"]}
    # No outputs: the subject is what the action produced (an upload, an edit, a delete).
    assert index_fields(_entry(outputs=[], inputs=[]))["product_ids"] == ["as_1"]


def test_append_entry_takes_the_events_plain_dict_and_names_bad_fields(tmp_path: object) -> None:
    from pathlib import Path

    from studio.adapters.sqlite_store import SqliteStore
    from studio.provenance.ledger import append_entry

    store = SqliteStore(Path(str(tmp_path)) / "store.db")
    entry = append_entry(store, "t_unit", "dev", {"action": "ai", "actor": {"type": "agent", "id": "muse"},
                                                 "subject": {"kind": "artifact", "id": "ar_1"}})
    assert (entry["seq"], entry["prev_hash"]) == (1, GENESIS)
    assert entry["hash"] == entry_hash(GENESIS, entry_body(entry))
    with pytest.raises(StudioError) as raised:
        append_entry(store, "t_unit", "dev", {"action": "teleport", "actor": {"type": "agent", "id": "muse"},
                                              "subject": {"kind": "artifact", "id": "ar_1"}})
    assert raised.value.code.code == "VALIDATION_FAILED" and raised.value.errors[0]["field"] == "action"

"""LocalSecretStore against the secrets contract, plus encryption at rest, keys,
tampering and sharing the file between instances."""
from __future__ import annotations

import base64
import json
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from studio.adapters.local_secrets import KEY_ENV, LocalSecretStore
from studio.kernel import errors
from tests.contract.secrets_contract import SecretStoreContract

KEY = bytes(range(32))
PLAINTEXT = b"correct horse battery staple"


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)


class TestLocalSecretStore(SecretStoreContract):
    @pytest.fixture
    def secret_store(self, tmp_path: Path) -> LocalSecretStore:
        return LocalSecretStore(tmp_path / "secrets.json", KEY)


def _unavailable(call: Callable[[], object]) -> None:
    with pytest.raises(errors.StudioError) as exc:
        call()
    assert exc.value.code is errors.UNAVAILABLE
    assert exc.value.status == 503


def test_file_never_holds_plaintext(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    store = LocalSecretStore(path, KEY)
    store.put("pw", PLAINTEXT)
    store.put("pw", PLAINTEXT)
    raw = path.read_bytes()
    assert PLAINTEXT not in raw and base64.b64encode(PLAINTEXT) not in raw
    records = json.loads(raw)["secrets"]["pw"]["versions"]
    assert records["1"]["nonce"] != records["2"]["nonce"]  # fresh nonce per value
    assert records["1"]["ct"] != records["2"]["ct"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_second_instance_reads_what_the_first_wrote(tmp_path: Path) -> None:
    first = LocalSecretStore(tmp_path / "s.json", KEY)
    second = LocalSecretStore(tmp_path / "s.json", KEY)
    first.put("shared", b"one")
    assert second.get("shared") == b"one"
    assert second.put("shared", b"two") == 2
    assert first.get("shared") == b"two"


def test_wrong_key_is_unavailable_for_reads_and_writes(tmp_path: Path) -> None:
    LocalSecretStore(tmp_path / "s.json", KEY).put("pw", PLAINTEXT)
    wrong = LocalSecretStore(tmp_path / "s.json", b"\x01" * 32)
    _unavailable(lambda: wrong.get("pw"))
    _unavailable(lambda: wrong.put("other", b"x"))  # never mixes two keys in one file
    _unavailable(wrong.list_names)
    assert LocalSecretStore(tmp_path / "s.json", KEY).get("pw") == PLAINTEXT
    with pytest.raises(errors.StudioError) as exc:
        wrong.get("pw")
    assert str(exc.value) == "secrets file cannot be decrypted with this key"


def test_swapped_ciphertexts_fail_authentication(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    store = LocalSecretStore(path, KEY)
    store.put("a", b"value-a")
    store.put("b", b"value-b")
    store.put("b", b"value-b2")
    doc = json.loads(path.read_bytes())
    doc["secrets"]["a"]["versions"]["1"] = doc["secrets"]["b"]["versions"]["1"]  # across names
    doc["secrets"]["b"]["versions"]["2"] = doc["secrets"]["b"]["versions"]["1"]  # across versions
    path.write_text(json.dumps(doc))
    _unavailable(lambda: store.get("a"))
    _unavailable(lambda: store.get("b"))


def test_corrupt_file_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text("{not json")
    _unavailable(lambda: LocalSecretStore(path, KEY).list_names())


def test_key_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, base64.b64encode(KEY).decode())
    LocalSecretStore(tmp_path / "s.json").put("pw", PLAINTEXT)
    assert LocalSecretStore(tmp_path / "s.json", KEY).get("pw") == PLAINTEXT
    assert not (tmp_path / "s.json.key").exists()
    monkeypatch.setenv(KEY_ENV, "c2hvcnQ=")
    _unavailable(lambda: LocalSecretStore(tmp_path / "other.json"))


def test_generated_key_file(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    LocalSecretStore(path).put("pw", PLAINTEXT)
    key_path = tmp_path / "s.json.key"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert len(base64.b64decode(key_path.read_bytes())) == 32
    assert LocalSecretStore(path).get("pw") == PLAINTEXT  # reused, not regenerated
    assert LocalSecretStore(path, base64.b64decode(key_path.read_bytes())).get("pw") == PLAINTEXT
    key_path.unlink()
    _unavailable(lambda: LocalSecretStore(path))  # a new key could never open the old file
    assert not key_path.exists()


def test_bad_key_argument(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        LocalSecretStore(tmp_path / "s.json", b"short")


def test_repr_leaks_nothing(tmp_path: Path) -> None:
    store = LocalSecretStore(tmp_path / "s.json", KEY)
    store.put("pw", PLAINTEXT)
    text = repr(store) + repr(vars(store))
    assert "horse" not in text and KEY.hex() not in text and repr(KEY) not in text


def test_concurrent_writers_across_instances_lose_nothing(tmp_path: Path) -> None:
    # Separate instances have separate thread locks: only the flock serialises them.
    stores = [LocalSecretStore(tmp_path / "s.json", KEY) for _ in range(4)]

    def writer(store: LocalSecretStore, n: int) -> None:
        # An exception here fails the test: pytest turns thread exceptions into errors.
        for i in range(10):
            store.put("counter", f"{n}-{i}".encode())

    threads = [threading.Thread(target=writer, args=(s, n)) for n, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert stores[0].versions("counter") == list(range(1, 41))
    values = {stores[1].get("counter", v) for v in range(1, 41)}
    assert values == {f"{n}-{i}".encode() for n in range(4) for i in range(10)}


def test_no_temp_files_left_behind(tmp_path: Path) -> None:
    store = LocalSecretStore(tmp_path / "s.json", KEY)
    for i in range(3):
        store.put("x", str(i).encode())
    assert sorted(os.listdir(tmp_path)) == ["s.json", "s.json.lock"]

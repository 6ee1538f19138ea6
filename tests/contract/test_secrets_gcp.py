"""SecretManagerStore against the secrets contract, and the fake Secret Manager held to the real API.

Secret Manager has no local emulator, so the adapter runs over REST against the in-process fake in
tests/support/fake_secret_manager.py. Two suites keep that honest:
- ``TestSecretManagerStore``: the same SecretStoreContract the local adapter passes;
- ``TestFakeFidelity``: Google's documented behaviour the contract does not pin down (error statuses,
  the ``latest`` alias, numbering, checksums, paging), through Google's own client.
Both run against a real project too when ``STUDIO_GCP_SECRETS_PROJECT`` is set (application default
credentials; secrets are created under a unique prefix and deleted afterwards).
"""
from __future__ import annotations

import base64
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from google.api_core import exceptions as gexc
from google.auth.credentials import AnonymousCredentials
from google.cloud import secretmanager_v1

from studio.adapters.secret_manager import SecretManagerStore, _crc32c, _crc32c_py
from studio.kernel import errors
from tests.contract.secrets_contract import SecretStoreContract
from tests.support.fake_secret_manager import FakeSecretManager

REAL_PROJECT = os.environ.get("STUDIO_GCP_SECRETS_PROJECT", "")
FAKE_PROJECT = "studio-fake"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSecretManager]:
    server = FakeSecretManager().start()
    yield server
    server.stop()


@pytest.fixture(params=["fake", "real"])
def backend(request: pytest.FixtureRequest, fake: FakeSecretManager) -> dict[str, Any]:
    if request.param == "real":
        if not REAL_PROJECT:
            pytest.skip("set STUDIO_GCP_SECRETS_PROJECT (and application default credentials) "
                        "to run against real Secret Manager")
        return {"project": REAL_PROJECT}
    return {"project": FAKE_PROJECT, "transport": "rest", "api_endpoint": fake.url,
            "credentials": AnonymousCredentials()}


def _client(backend: dict[str, Any]) -> secretmanager_v1.SecretManagerServiceClient:
    if "api_endpoint" not in backend:
        return secretmanager_v1.SecretManagerServiceClient(transport="rest")
    return secretmanager_v1.SecretManagerServiceClient(
        transport="rest", credentials=backend["credentials"],
        client_options={"api_endpoint": backend["api_endpoint"]})


class _Prefixed:
    """Gives each test its own namespace in a shared project: names get a unique prefix on the way
    in and lose it on the way out, so the contract's exact-name assertions still hold."""

    def __init__(self, store: SecretManagerStore, prefix: str) -> None:
        self.store, self.prefix = store, prefix

    def _n(self, name: Any) -> Any:
        # Bad names must stay bad: only prefix names the port would accept anyway.
        return self.prefix + name if isinstance(name, str) and name and len(name) < 200 else name

    def put(self, name: str, value: bytes) -> int:
        return self.store.put(self._n(name), value)

    def get(self, name: str, version: int | None = None) -> bytes:
        return self.store.get(self._n(name), version)

    def versions(self, name: str) -> list[int]:
        return self.store.versions(self._n(name))

    def disable(self, name: str, version: int) -> None:
        self.store.disable(self._n(name), version)

    def delete(self, name: str) -> None:
        self.store.delete(self._n(name))

    def list_names(self, prefix: str = "") -> list[str]:
        return [n[len(self.prefix):] for n in self.store.list_names(self.prefix + prefix)]

    def cleanup(self) -> None:
        for name in self.store.list_names(self.prefix):
            self.store.delete(name)


class TestSecretManagerStore(SecretStoreContract):
    # Nothing in SecretStoreContract is local-only (the plaintext-on-disk, wrong-key and file-sharing
    # checks live in test_secrets_local.py, outside the mixin), so no contract test is skipped here.
    @pytest.fixture
    def secret_store(self, backend: dict[str, Any]) -> Iterator[_Prefixed]:
        wrapped = _Prefixed(SecretManagerStore(**backend), f"t{uuid.uuid4().hex[:10]}-")
        yield wrapped
        wrapped.cleanup()


# -- adapter behaviour beyond the contract (fake only: it needs the call log or a dead port) ----------


@pytest.fixture
def store(fake: FakeSecretManager) -> SecretManagerStore:
    return SecretManagerStore(FAKE_PROJECT, transport="rest", api_endpoint=fake.url,
                              credentials=AnonymousCredentials())


def test_client_is_built_lazily_and_once(store: SecretManagerStore, fake: FakeSecretManager) -> None:
    assert store._client is None  # constructing the store imports and dials nothing
    store.put(f"lazy-{uuid.uuid4().hex[:8]}", b"x")
    client = store._client
    store.list_names()
    assert client is not None and store._client is client


def test_get_latest_is_one_call_unless_the_newest_version_is_disabled(
        store: SecretManagerStore, fake: FakeSecretManager) -> None:
    name = f"calls-{uuid.uuid4().hex[:8]}"
    store.put(name, b"v1")
    store.put(name, b"v2")
    before = len(fake.calls)
    assert store.get(name) == b"v2"
    assert fake.calls[before:] == [f"GET /v1/projects/{FAKE_PROJECT}/secrets/{name}/versions/latest:access"]
    store.disable(name, 2)
    before = len(fake.calls)
    assert store.get(name) == b"v1"
    assert len(fake.calls) - before == 3  # latest (refused), list versions, access v1


def test_unreachable_secret_manager_is_503_and_leaks_nothing() -> None:
    dead = SecretManagerStore(FAKE_PROJECT, transport="rest", api_endpoint="http://127.0.0.1:9",
                              credentials=AnonymousCredentials(), timeout_s=0.5)
    for call in (lambda: dead.get("x"), lambda: dead.put("x", b"hunter2-value"), dead.list_names):
        with pytest.raises(errors.StudioError) as exc:
            call()
        assert exc.value.status == 503 and "hunter2" not in str(exc.value)


def test_checksum_mismatch_on_access_is_503_without_the_value(
        store: SecretManagerStore, fake: FakeSecretManager) -> None:
    name = f"crc-{uuid.uuid4().hex[:8]}"
    store.put(name, b"hunter2-value")
    fake.corrupt_access = True
    try:
        with pytest.raises(errors.StudioError) as exc:
            store.get(name)
    finally:
        fake.corrupt_access = False
    assert exc.value.status == 503 and "hunter2" not in str(exc.value)
    assert store.get(name) == b"hunter2-value"


def test_client_debug_logging_never_shows_values(fake: FakeSecretManager) -> None:
    # Google's client logs payloads at DEBUG when GOOGLE_SDK_PYTHON_LOGGING_SCOPE is set; it reads that
    # once per process, hence a child process.
    script = (
        "import logging; from google.auth.credentials import AnonymousCredentials\n"
        "from studio.adapters.secret_manager import SecretManagerStore\n"
        "logging.basicConfig(level=logging.DEBUG)\n"
        f"s = SecretManagerStore('p', transport='rest', api_endpoint='{fake.url}',"
        " credentials=AnonymousCredentials())\n"
        "s.put('logged', b'hunter2-value'); assert s.get('logged') == b'hunter2-value'; print('ok')\n")
    env = {**os.environ, "GOOGLE_SDK_PYTHON_LOGGING_SCOPE": "google.cloud.secretmanager_v1",
           "PYTHONPATH": os.pathsep.join(["shared", "."])}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                          cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                          timeout=60, check=False)
    assert done.stdout.strip() == "ok", done.stderr
    output = done.stdout + done.stderr
    assert "hunter2" not in output and base64.b64encode(b"hunter2-value").decode() not in output


def test_crc32c_fallback_matches_the_library() -> None:
    for data in (b"", b"123456789", bytes(range(256)) * 3):
        assert _crc32c_py(data) == _crc32c(data)
    assert _crc32c_py(b"123456789") == 0xE3069283  # the CRC-32C check value


# -- fidelity: the fake answers as Google documents -------------------------------------------------


class TestFakeFidelity:
    @pytest.fixture
    def api(self, backend: dict[str, Any]) -> Iterator[tuple[Any, str]]:
        client = _client(backend)
        secret_id = f"fidelity-{uuid.uuid4().hex[:10]}"
        yield client, secret_id
        try:
            client.delete_secret(name=f"projects/{backend['project']}/secrets/{secret_id}", timeout=10)
        except gexc.NotFound:
            pass  # the test deleted it itself

    @staticmethod
    def _status(exc: gexc.GoogleAPICallError) -> str:
        return exc.response.json()["error"]["status"]

    def test_versions_number_from_one_and_latest_is_newest_created(self, api, backend) -> None:  # noqa: ANN001
        client, secret_id = api
        parent = f"projects/{backend['project']}"
        secret = client.create_secret(parent=parent, secret_id=secret_id,
                                      secret={"replication": {"automatic": {}}}, timeout=10)
        number = secret.name.split("/")[1]
        assert number.isdigit()  # names come back with the project NUMBER, not its id
        added = [client.add_secret_version(parent=f"{parent}/secrets/{secret_id}",
                                           payload={"data": d}, timeout=10) for d in (b"a", b"b")]
        assert [a.name.rsplit("/", 1)[1] for a in added] == ["1", "2"]
        assert added[0].state.name == "ENABLED"
        latest = client.access_secret_version(name=f"{parent}/secrets/{secret_id}/versions/latest", timeout=10)
        assert latest.name.endswith(f"/secrets/{secret_id}/versions/2") and latest.payload.data == b"b"
        assert latest.payload.data_crc32c == _crc32c(b"b")  # the server stores one even if not sent
        listed = list(client.list_secret_versions(
            request={"parent": f"{parent}/secrets/{secret_id}", "page_size": 1}, timeout=10))
        assert [v.name.rsplit("/", 1)[1] for v in listed] == ["2", "1"]  # newest first, across pages

    def test_disabled_versions_and_the_latest_alias(self, api, backend) -> None:  # noqa: ANN001
        client, secret_id = api
        parent = f"projects/{backend['project']}"
        client.create_secret(parent=parent, secret_id=secret_id,
                             secret={"replication": {"automatic": {}}}, timeout=10)
        for data in (b"a", b"b"):
            client.add_secret_version(parent=f"{parent}/secrets/{secret_id}", payload={"data": data}, timeout=10)
        disabled = client.disable_secret_version(name=f"{parent}/secrets/{secret_id}/versions/2", timeout=10)
        assert disabled.state.name == "DISABLED"
        # `latest` is not "latest enabled": it still points at v2 and refuses.
        for ref in ("2", "latest"):
            with pytest.raises(gexc.BadRequest) as exc:
                client.access_secret_version(name=f"{parent}/secrets/{secret_id}/versions/{ref}", timeout=10)
            assert exc.value.code == 400 and self._status(exc.value) == "FAILED_PRECONDITION"
            assert "DISABLED" in exc.value.message
        listed = client.list_secret_versions(parent=f"{parent}/secrets/{secret_id}", timeout=10)
        assert [v.state.name for v in listed] == ["DISABLED", "ENABLED"]

    def test_error_statuses(self, api, backend) -> None:  # noqa: ANN001
        client, secret_id = api
        parent = f"projects/{backend['project']}"
        path = f"{parent}/secrets/{secret_id}"
        with pytest.raises(gexc.BadRequest) as exc:  # replication is required
            client.create_secret(parent=parent, secret_id=secret_id, secret={}, timeout=10)
        assert self._status(exc.value) == "INVALID_ARGUMENT"
        for call in (lambda: client.access_secret_version(name=f"{path}/versions/latest", timeout=10),
                     lambda: client.add_secret_version(parent=path, payload={"data": b"x"}, timeout=10),
                     lambda: client.list_secret_versions(parent=path, timeout=10)):
            with pytest.raises(gexc.NotFound) as exc:
                call()
            assert exc.value.code == 404 and self._status(exc.value) == "NOT_FOUND"
        client.create_secret(parent=parent, secret_id=secret_id,
                             secret={"replication": {"automatic": {}}}, timeout=10)
        with pytest.raises(gexc.Conflict) as exc:
            client.create_secret(parent=parent, secret_id=secret_id,
                                 secret={"replication": {"automatic": {}}}, timeout=10)
        assert exc.value.code == 409 and self._status(exc.value) == "ALREADY_EXISTS"
        with pytest.raises(gexc.NotFound):  # a secret without versions has no `latest`
            client.access_secret_version(name=f"{path}/versions/latest", timeout=10)
        with pytest.raises(gexc.BadRequest) as exc:  # the server checks the checksum we send
            client.add_secret_version(parent=path, payload={"data": b"x", "data_crc32c": 1}, timeout=10)
        assert self._status(exc.value) == "INVALID_ARGUMENT"
        client.add_secret_version(parent=path, payload={"data": b"x"}, timeout=10)
        with pytest.raises(gexc.NotFound):
            client.access_secret_version(name=f"{path}/versions/2", timeout=10)
        client.delete_secret(name=path, timeout=10)
        with pytest.raises(gexc.NotFound):
            client.delete_secret(name=path, timeout=10)
        client.create_secret(parent=parent, secret_id=secret_id,
                             secret={"replication": {"automatic": {}}}, timeout=10)
        again = client.add_secret_version(parent=path, payload={"data": b"y"}, timeout=10)
        assert again.name.endswith("/versions/1")  # a re-created secret numbers from 1 again

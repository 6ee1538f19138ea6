"""The data folder holds password hashes, refresh tokens and keys: only its owner may read it.

The runtime runs with umask 000 here, so a mode that depended on the umask would show as 0666/0777.
"""
from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import httpx

from studio.bootstrap import Deps
from studio.config import Settings
from tests.support.api import new_tenant, new_user
from tests.support.runtime_process import RuntimeProcess

EXPECTED = {"store.db", "store.db-wal", "store.db-shm", "bus.db", "bus.db-wal", "bus.db-shm", "secrets.json",
            "secrets.json.key", "secrets.json.lock", "blobs", "blobs/.lock", "blobs/uploads", "blobs/uploads/.generation"}


def _modes(root: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(os.lstat(root).st_mode)}
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = Path(folder) / name
            found[str(path.relative_to(root))] = stat.S_IMODE(os.lstat(path).st_mode)
    return found


def _assert_private(root: Path) -> None:
    modes = _modes(root)
    assert EXPECTED <= set(modes), sorted(EXPECTED - set(modes))
    assert any(name.startswith("blobs/uploads/") and name.endswith(".blob") for name in modes)
    wrong = {name: oct(mode) for name, mode in modes.items()
             if mode != (0o700 if (root / name).is_dir() else 0o600)}
    assert not wrong, wrong


def _use_everything(runtime: RuntimeProcess, data: Path) -> None:
    """Sign up, post a chat message (the agent answers through the bus), upload a blob."""
    with httpx.Client(base_url=runtime.base_url, timeout=30) as client:
        user = new_user(client, "modes")
        tenant = new_tenant(client, user)
        thread = client.post("/chat/threads", json={"title": "t"}, headers=user.in_tenant(tenant)).json()["id"]
        posted = client.post(f"/chat/threads/{thread}/messages", json={"text": "hello"}, headers=user.in_tenant(tenant))
        assert posted.status_code == 201, posted.text
        deadline = time.monotonic() + 30
        while len(client.get(f"/chat/threads/{thread}/messages", headers=user.in_tenant(tenant)).json()["messages"]) < 2:
            assert time.monotonic() < deadline, "the agent did not answer"
            time.sleep(0.1)
    deps = Deps(Settings(data_dir=data, public_url=runtime.base_url))  # signs as a function instance would
    url = deps.blobs.signed_url("uploads", "a.bin", method="PUT")
    assert httpx.put(url, content=b"secret bytes").status_code == 200


def test_a_fresh_data_dir_is_private_whatever_the_umask(tmp_path: Path) -> None:
    data = tmp_path / "nested" / "data"
    runtime = RuntimeProcess(data, umask=0).start()
    try:
        _use_everything(runtime, data)
        _assert_private(data)  # while it runs: -wal and -shm exist now
        assert stat.S_IMODE(os.lstat(tmp_path / "nested").st_mode) == 0o700  # made by us, so ours to close
    finally:
        runtime.stop()


def test_files_written_before_are_made_private_on_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    runtime = RuntimeProcess(data, umask=0).start()
    try:
        _use_everything(runtime, data)
    finally:
        runtime.kill9()  # leaves -wal and -shm behind
    for name in _modes(data):
        (data / name).chmod(0o777 if (data / name).is_dir() else 0o666)  # as an older version left them
    runtime = RuntimeProcess(data, umask=0).start()
    try:
        _assert_private(data)
    finally:
        runtime.stop()


def test_a_shared_sticky_folder_is_not_closed(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # like /tmp, named as the data folder by mistake
    runtime = RuntimeProcess(shared, umask=0).start()
    try:
        assert stat.S_IMODE(os.lstat(shared).st_mode) == 0o1777
        assert stat.S_IMODE(os.lstat(shared / "store.db").st_mode) == 0o600
    finally:
        runtime.stop()

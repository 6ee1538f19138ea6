"""The instance's memo (studio.kernel.deps): a Slot is its own key, each object is built once even
when threads race for it, and the identity objects the kernel reads are the ones the domain uses."""
from __future__ import annotations

import threading
import time
from pathlib import Path

from studio.bootstrap import STORE, Deps
from studio.config import Settings
from studio.identity import repos
from studio.identity.services import identity_services
from studio.kernel.deps import Slot


def _deps(tmp_path: Path) -> Deps:
    return Deps(Settings(data_dir=tmp_path))


def test_two_slots_with_the_same_name_never_share_an_entry(tmp_path: Path) -> None:
    deps = _deps(tmp_path)
    first: Slot[list[str]] = Slot("services")
    second: Slot[list[str]] = Slot("services")
    a, b = deps.memo(first, lambda: ["a"]), deps.memo(second, lambda: ["b"])
    assert (a, b) == (["a"], ["b"])
    assert deps.memo(first, lambda: ["again"]) is a


def test_an_object_is_built_once_when_threads_race_for_it(tmp_path: Path) -> None:
    deps = _deps(tmp_path)
    slot: Slot[object] = Slot("slow")
    builds: list[int] = []
    start = threading.Barrier(8)
    got: list[object] = []

    def build() -> object:
        builds.append(1)
        time.sleep(0.05)  # long enough for every other thread to arrive while this one builds
        return object()

    def ask() -> None:
        start.wait()
        got.append(deps.memo(slot, build))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1 and len(got) == 8 and all(g is got[0] for g in got)


def test_a_port_provided_before_its_first_use_is_the_one_served(tmp_path: Path) -> None:
    deps = _deps(tmp_path)
    from studio.adapters.sqlite_store import SqliteStore

    mine = SqliteStore(tmp_path / "elsewhere.db")
    assert deps.memo(STORE, lambda: mine) is mine
    assert deps.store is mine
    assert not (tmp_path / "store.db").exists()


def test_the_kernel_and_the_identity_domain_share_one_keyring_and_one_of_each_repository(tmp_path: Path) -> None:
    deps = _deps(tmp_path)
    services = identity_services(deps)
    assert deps.memberships is repos.memberships(deps) is services.memberships
    assert deps.keyring is repos.keyring(deps) is services.keyring
    assert deps.sessions is repos.sessions(deps)

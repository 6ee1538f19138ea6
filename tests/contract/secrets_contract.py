"""Behaviour every SecretStore adapter must share (local file, Secret Manager).

Subclass ``SecretStoreContract`` and provide a ``secret_store`` fixture that starts
empty (use a unique name prefix per run against a shared project).
"""
from __future__ import annotations

import pytest

from studio.kernel import errors
from studio.ports.secrets import SecretStore

BAD_NAMES = ["", "has space", "dot.name", "slash/name", "../up", "nul\x00", "tr\u00e9s", "x" * 256, "trailing\n"]


class SecretStoreContract:
    def test_put_get_round_trip(self, secret_store: SecretStore) -> None:
        value = bytes(range(256))
        assert secret_store.put("api-key_1", value) == 1
        assert secret_store.get("api-key_1") == value
        assert secret_store.get("api-key_1", 1) == value

    def test_versions_count_up_and_latest_wins(self, secret_store: SecretStore) -> None:
        assert [secret_store.put("rotating", v) for v in (b"a", b"b", b"c")] == [1, 2, 3]
        assert secret_store.versions("rotating") == [1, 2, 3]
        assert secret_store.get("rotating") == b"c"
        assert secret_store.get("rotating", 1) == b"a"

    def test_disable_falls_back_to_latest_enabled(self, secret_store: SecretStore) -> None:
        for v in (b"v1", b"v2", b"v3"):
            secret_store.put("db-password", v)
        secret_store.disable("db-password", 3)
        assert secret_store.get("db-password") == b"v2"
        with pytest.raises(errors.NotFound):
            secret_store.get("db-password", 3)
        assert secret_store.versions("db-password") == [1, 2, 3]  # disabled still listed
        secret_store.disable("db-password", 3)  # idempotent
        assert secret_store.put("db-password", b"v4") == 4
        assert secret_store.get("db-password") == b"v4"

    def test_all_disabled_is_not_found(self, secret_store: SecretStore) -> None:
        secret_store.put("lonely", b"x")
        secret_store.disable("lonely", 1)
        with pytest.raises(errors.NotFound):
            secret_store.get("lonely")

    def test_missing(self, secret_store: SecretStore) -> None:
        for call in (
            lambda: secret_store.get("absent"),
            lambda: secret_store.versions("absent"),
            lambda: secret_store.disable("absent", 1),
            lambda: secret_store.delete("absent"),
        ):
            with pytest.raises(errors.NotFound):
                call()
        secret_store.put("present", b"x")
        with pytest.raises(errors.NotFound):
            secret_store.get("present", 2)
        with pytest.raises(errors.NotFound):
            secret_store.disable("present", 2)

    def test_delete_removes_all_versions(self, secret_store: SecretStore) -> None:
        secret_store.put("temp", b"1")
        secret_store.put("temp", b"2")
        secret_store.delete("temp")
        assert "temp" not in secret_store.list_names()
        with pytest.raises(errors.NotFound):
            secret_store.get("temp")
        assert secret_store.put("temp", b"new") == 1  # a new secret starts over

    def test_list_with_prefix(self, secret_store: SecretStore) -> None:
        for name in ("svc-b", "svc-a", "other", "svc"):
            secret_store.put(name, b"x")
        assert secret_store.list_names("svc") == ["svc", "svc-a", "svc-b"]
        assert secret_store.list_names() == ["other", "svc", "svc-a", "svc-b"]
        assert secret_store.list_names("nope") == []

    def test_empty_value_allowed(self, secret_store: SecretStore) -> None:
        secret_store.put("blank", b"")
        assert secret_store.get("blank") == b""

    @pytest.mark.parametrize("name", BAD_NAMES)
    def test_bad_names_rejected(self, secret_store: SecretStore, name: str) -> None:
        for call in (
            lambda: secret_store.put(name, b"x"),
            lambda: secret_store.get(name),
            lambda: secret_store.versions(name),
            lambda: secret_store.delete(name),
        ):
            with pytest.raises(errors.StudioError) as exc:
                call()
            assert exc.value.status == 400

    def test_bad_values_and_versions_rejected(self, secret_store: SecretStore) -> None:
        with pytest.raises(errors.StudioError) as exc:
            secret_store.put("typed", "not bytes")  # type: ignore[arg-type]
        assert exc.value.status == 400
        with pytest.raises(errors.StudioError) as exc:
            secret_store.put("huge", b"x" * (64 * 1024 + 1))
        assert exc.value.status == 413
        secret_store.put("typed", b"x")
        for version in (0, -1, True):
            with pytest.raises(errors.StudioError) as exc:
                secret_store.get("typed", version)
            assert exc.value.status == 400

"""The benchmarks run in ``make bench``, never in ``make test``: so their setup, which calls the
library's own services, is checked here (login gained ``client_ip`` once and the cold-start bench
broke unnoticed). Every bench module imports, and the cold-start data folder is prepared for real."""
from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import bench


def test_every_bench_module_imports() -> None:
    names = [m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_")]
    assert "cold_start" in names
    for name in names:
        importlib.import_module(f"bench.{name}")


def test_the_cold_start_data_folder_has_a_signed_in_member(tmp_path: Path) -> None:
    from bench.cold_start import prepare_data_dir

    caller = prepare_data_dir(tmp_path / "data")
    assert caller.tenant_id.startswith("t_")
    assert caller.headers["Authorization"].startswith("Bearer ey")
    assert (tmp_path / "data" / "store.db").exists()

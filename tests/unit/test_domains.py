"""studio/domains.py, the one table of domains: complete, consistent, and cheap to read."""
from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import studio
from infra.localrun import manifest as manifest_mod
from studio import domains

REPO = Path(__file__).resolve().parents[2]
PLATFORM = {"kernel", "ports", "adapters", "contracts"}  # under every domain, or (contracts) the composition above them


def test_every_package_of_the_library_is_the_platform_or_a_registered_domain() -> None:
    """A new domain package without its row would serve nothing and publish to topics nobody creates."""
    packages = {m.name for m in pkgutil.iter_modules(studio.__path__) if m.ispkg}
    names = [row.name for row in domains.DOMAINS]
    assert len(names) == len(set(names)), "a domain is listed twice"
    assert packages - PLATFORM == set(names)


def test_each_part_a_row_names_exists_and_has_its_type() -> None:
    from studio.kernel.commands import CommandType
    from studio.kernel.routing import Router
    from studio.kernel.store_queries import StoreQuery
    from studio.kernel.tools import ToolSpec

    for row in domains.DOMAINS:
        assert all(isinstance(r, Router) for r in row.load_routers()), row.name
        assert all(isinstance(t, ToolSpec) for t in row.load_tools()), row.name
        assert all(t.name.split(".")[0] == row.name for t in row.load_tools()), row.name  # domain.verb
        assert all(isinstance(c, CommandType) for c in row.load_commands()), row.name
        assert all(isinstance(q, StoreQuery) for q in row.load_queries()), row.name
        for query in row.load_queries():  # a domain lists the queries of its own code
            assert query.file.startswith(f"{row.name}/"), (row.name, query.site)
    names = [c.name for c in domains.command_types()]
    assert len(names) == len(set(names)) and {"tenant.rename", "membership.set_role"} <= set(names)


# Domains older than docs/adding-a-capability.md, and where they still differ from it.
LAYOUT_DEBT = {
    "events": {"paths.py", "services.py"},  # its paths are in store_writer.py, its services in routes.py
}


def test_every_domain_follows_the_one_layout() -> None:
    """docs/adding-a-capability.md: each part in its conventional module, named by the row; a domain
    serving HTTP has its models, paths and services modules."""
    conventional = {"routers": "routes:ROUTERS", "commands": "commands:COMMANDS", "errors": "errors",
                    "queries": "queries:QUERIES", "tools": "tools:TOOLS"}
    for row in domains.DOMAINS:
        folder = REPO / "shared" / "studio" / row.name
        for part, ref in conventional.items():
            module = ref.split(":")[0]
            declared = getattr(row, part)
            assert declared in ("", f"{row.package}.{ref}"), f"{row.name}.{part} must be {row.package}.{ref}"
            assert bool(declared) == (folder / f"{module}.py").exists(), \
                f"{row.name}: {module}.py and the row's {part} go together"
        if row.routers:
            missing = {f for f in ("models.py", "paths.py", "services.py") if not (folder / f).exists()}
            assert missing == LAYOUT_DEBT.get(row.name, set()), f"{row.name} lacks {missing}"


def test_a_row_may_only_name_code_in_its_own_package() -> None:
    with pytest.raises(ValueError, match="studio.media"):
        domains.Domain("media", "Media", routers="studio.chat.routes:ROUTERS")
    with pytest.raises(ValueError, match="studio.media"):
        domains.Domain("media", "Media", routers="studio.media.routes")  # no attribute
    with pytest.raises(ValueError, match="belong in studio.media"):
        domains.Domain("media", "Media", errors="studio.kernel.errors")


def test_event_types_belong_to_one_domain_and_go_to_one_topic() -> None:
    seen: dict[str, str] = {}
    for row in domains.DOMAINS:
        for kind, topic in row.events.items():
            assert kind not in seen, f"{kind} is declared by {seen[kind]} and {row.name}"
            seen[kind] = row.name
            assert kind.count(".") == 1 and kind.replace(".", "").replace("_", "").isalnum(), kind
            assert topic in domains.topics()


def test_every_pubsub_trigger_listens_to_a_topic_some_domain_publishes() -> None:
    listened = {spec.topic for spec in manifest_mod.load().events() if spec.kind == "pubsub"}
    assert listened <= set(domains.topics()), listened - set(domains.topics())


def test_reading_the_registry_imports_no_domain_code_and_no_pydantic() -> None:
    """Cold start: a function's main.py reads the table at import; its routers load on the first request."""
    probe = ("import json, sys\n"
             f"sys.path.insert(0, {str(REPO / 'shared')!r})\n"
             "from studio import domains\n"
             "domains.DOMAINS, domains.topics(), domains.domain('chat')\n"
             "print(json.dumps(sorted(sys.modules)))\n")
    loaded = json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                                       timeout=60).stdout)
    heavy = [m for m in loaded if m.split(".")[0] == "pydantic" or (m.startswith("studio.") and m != "studio.domains")]
    assert heavy == []

"""terraform/: formatted, driven by functions/manifest.yaml, and valid against the Google
provider's schema. All offline: no provider download, no cloud account."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

from infra import pubsub_topics
from infra.localrun import manifest as manifest_mod
from infra.provider_schema import lint as schema_lint
from studio import domains
from tests.infra.tools import TERRAFORM_DIR, terraform

PUBSUB_TOPICS = pubsub_topics.FILE
_SA_ID = re.compile(r"^[a-z][-a-z0-9]{4,28}[a-z0-9]$")
_RUN_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$")  # Cloud Run service: <= 49 characters


def _tf() -> dict[str, list[dict[str, Any]]]:
    """All blocks of terraform/*.tf by kind ("resource", "locals", "variable" ...)."""
    merged: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(TERRAFORM_DIR.glob("*.tf")):
        for kind, entries in hcl2.loads(path.read_text()).items():
            merged.setdefault(kind, []).extend(entries)
    return merged


def _resource(rtype: str, name: str) -> dict[str, Any]:
    for entry in _tf()["resource"]:
        body = entry.get(f'"{rtype}"', {}).get(f'"{name}"')
        if body is not None:
            return body
    raise AssertionError(f"no resource {rtype}.{name} in terraform/")


def _module(name: str) -> dict[str, Any]:
    for entry in _tf().get("module", []):
        if f'"{name}"' in entry:
            return dict(entry[f'"{name}"'])
    raise AssertionError(f"no module {name} in terraform/")


def _locals() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for entry in _tf()["locals"]:
        out.update(entry)
    return out


def _variable_default(name: str) -> Any:
    for entry in _tf()["variable"]:
        if f'"{name}"' in entry:
            return entry[f'"{name}"']["default"]
    raise AssertionError(f"no variable {name}")



def test_terraform_is_formatted() -> None:
    result = terraform(["fmt", "-check", "-diff", "-recursive"], TERRAFORM_DIR)
    assert result.returncode == 0, f"run `terraform fmt -recursive terraform`:\n{result.stdout}{result.stderr}"


def test_terraform_reads_the_manifest_and_keys_every_function_by_it() -> None:
    loc = _locals()
    assert loc["manifest"] == '${yamldecode(file("${path.module}/../functions/manifest.yaml"))}'
    assert loc["functions"].startswith("${{for f in local.manifest.functions : f.name =>")
    per_function = {
        ("google_cloudfunctions2_function", "function"): "${local.functions}",
        ("google_service_account", "function"): "${local.functions}",
        ("google_storage_bucket_object", "source"): "${local.functions}",
        ("google_project_iam_member", "firestore_user"): "${local.functions}",
        ("google_compute_region_network_endpoint_group", "function"): "${local.http_functions}",
        ("google_compute_backend_service", "function"): "${local.http_functions}",
        ("google_cloud_run_v2_service_iam_member", "public_invoker"): "${local.http_functions}",
        ("google_cloud_run_v2_service_iam_member", "eventarc_invoker"): "${local.event_functions}",
    }
    for (rtype, name), source in per_function.items():
        assert _resource(rtype, name)["for_each"] == source, f"{rtype}.{name}"
    fn = _resource("google_cloudfunctions2_function", "function")
    service = fn["service_config"][0]
    assert service["service_account_email"] == "${google_service_account.function[each.key].email}"
    assert fn["build_config"][0]["entry_point"] == "${each.value.entrypoint}"
    assert "${google_storage_bucket_object.source[each.key].name}" in json.dumps(fn["build_config"])
    url_map = _resource("google_compute_url_map", "api")
    rules = url_map["path_matcher"][0]["dynamic"][0]['"path_rule"']
    assert rules["for_each"] == "${local.route_paths}"


def test_every_trigger_kind_the_manifest_allows_has_its_event_trigger() -> None:
    allowed = set(re.findall(r"(?:\^\(|\|)([a-z]+)", manifest_mod._TRIGGER.pattern))
    present = {spec.kind for spec in manifest_mod.load().functions}
    handled = {"http"} | set(_locals()["event_types"])
    assert allowed >= present
    assert handled >= allowed, f"terraform/manifest.tf event_types lacks {sorted(allowed - handled)}"
    trigger = _resource("google_cloudfunctions2_function", "function")["dynamic"][0]['"event_trigger"']
    assert trigger["for_each"] == '${each.value.kind == "http" ? [] : [each.value]}'
    content = json.dumps(trigger["content"])
    assert "google_pubsub_topic.topic[event_trigger.value.target].id" in content
    assert "google_storage_bucket.role[event_trigger.value.target].name" in content  # storage: bucket filter
    assert "match-path-pattern" in content and "google_firestore_database.main.name" in content  # firestore


def _evaluate(manifest: dict[str, Any], tmp_path: Path, expression: str) -> Any:
    """Evaluate an expression over terraform/manifest.tf (pure locals) with `terraform console`."""
    (tmp_path / "functions").mkdir()
    (tmp_path / "functions" / "manifest.yaml").write_text(yaml.safe_dump(manifest))
    (tmp_path / "infra").mkdir()
    shutil.copy(PUBSUB_TOPICS, tmp_path / "infra" / PUBSUB_TOPICS.name)
    module = tmp_path / "terraform"
    module.mkdir()
    for name in ("manifest.tf", "variables.tf"):
        shutil.copy(TERRAFORM_DIR / name, module / name)
    result = terraform(["console", "-var", "project=studio-test", "-var", "environment=dev",
                        "-var", "domain=api.example.com"], module, stdin=f"jsonencode({expression})\n")
    assert result.returncode == 0, result.stderr
    return json.loads(json.loads(result.stdout.strip().splitlines()[-1]))


_DERIVED = ("{functions = local.functions, sa = local.service_account_ids, paths = local.route_paths,"
            " dead = local.dead_letter_of, dead_topics = local.dead_letter_topics, topics = local.topics,"
            " roles = local.bucket_roles, buckets = local.bucket_grants, default = local.default_http_function}")


def _check_derived(specs: list[manifest_mod.FunctionSpec], got: dict[str, Any]) -> None:
    assert set(got["functions"]) == {s.name for s in specs}
    assert len(set(got["sa"].values())) == len(specs), "service account ids collide"
    for spec in specs:
        fn = got["functions"][spec.name]
        assert (fn["kind"], fn["entrypoint"], fn["memory"], fn["timeout"]) == (
            spec.kind, spec.entrypoint, spec.memory, spec.timeout), spec.name
        assert _SA_ID.match(got["sa"][spec.name]), got["sa"][spec.name]
        assert _RUN_NAME.match(fn["id"]), fn["id"]
        if spec.kind == "http":
            for route in spec.routes:
                assert {route, route.rstrip("/") + "/*"} <= set(got["paths"][spec.name])
            continue
        assert got["dead"][spec.name] in got["dead_topics"]
        if spec.kind == "pubsub":
            assert spec.topic in got["topics"] and f"{spec.topic}.dead-letter" in got["dead_topics"]
        if spec.kind == "storage":
            assert spec.topic in got["roles"] and f"{spec.topic}/{spec.name}" in got["buckets"]
    assert got["default"] in got["paths"]
    for topic in domains.topics():  # the registry's, through infra/pubsub_topics.json
        assert topic in got["topics"] and f"{topic}.dead-letter" in got["dead_topics"], topic


def test_derived_names_routes_and_topics_for_the_real_manifest(tmp_path: Path) -> None:
    raw = yaml.safe_load(manifest_mod.MANIFEST.read_text())
    functions = [s for s in manifest_mod.load().functions if s.platform == "function"]  # cloud_run: own .tf
    _check_derived(functions, _evaluate(raw, tmp_path, _DERIVED))


def test_derived_locals_cover_every_trigger_kind(tmp_path: Path) -> None:
    raw = {"functions": [
        {"name": "long_" + "n" * 36, "entrypoint": "api", "trigger": "http",  # the longest name allowed
         "routes": ["/a", "/b/"]},
        {"name": "on_upload", "entrypoint": "on_upload", "trigger": "storage:uploads"},
        {"name": "on_event", "entrypoint": "on_event", "trigger": "pubsub:some.topic", "memory": "1Gi"},
        {"name": "relay", "entrypoint": "relay", "trigger": "firestore:outbox", "timeout": 30},
    ]}
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(raw))
    specs = manifest_mod.load(path).functions
    got = _evaluate(raw, tmp_path, _DERIVED)
    _check_derived(specs, got)
    assert got["dead"] == {"on_upload": "storage.uploads.dead-letter", "on_event": "some.topic.dead-letter",
                           "relay": "firestore.outbox.dead-letter"}


def test_the_iam_roles_of_each_manifest_entry_are_granted_to_its_service_account(tmp_path: Path) -> None:
    raw = {"functions": [
        {"name": "claims", "entrypoint": "claims", "trigger": "pubsub:domain.member",
         "iam_roles": ["roles/firebaseauth.admin", "roles/logging.viewer"]},
        {"name": "api", "entrypoint": "api", "trigger": "http", "routes": ["/a"]},
    ]}
    assert _evaluate(raw, tmp_path, "local.role_grants") == {
        "claims/roles/firebaseauth.admin": {"function": "claims", "role": "roles/firebaseauth.admin"},
        "claims/roles/logging.viewer": {"function": "claims", "role": "roles/logging.viewer"},
    }
    grant = _resource("google_project_iam_member", "function_role")
    assert grant["for_each"] == "${local.role_grants}"
    assert grant["member"] == "${google_service_account.function[each.value.function].member}"
    real = {f"{s.name}/{role}" for s in manifest_mod.load().functions for role in s.iam_roles}
    assert "identity_claims/roles/firebaseauth.admin" in real  # writes the accounts' custom claims


def test_every_resource_matches_the_google_provider_schema() -> None:
    assert schema_lint.lint(TERRAFORM_DIR) == []


def test_the_schema_lint_catches_unknown_missing_and_misplaced_names(tmp_path: Path) -> None:
    broken = tmp_path / "tf"
    shutil.copytree(TERRAFORM_DIR, broken)
    fn = broken / "functions.tf"
    text = fn.read_text()
    text = text.replace('runtime           = "python311"', 'runtime = "python311"\n    runtimes = 1', 1)
    text = text.replace("service_config {", "service_config {\n    ingress { x = 1 }", 1)
    fn.write_text(text)
    lb = broken / "loadbalancer.tf"
    lb.write_text(lb.read_text().replace("hosts        = [var.domain]", "", 1))
    (broken / "extra.tf").write_text('resource "google_storage_bucket" "x" {\n  name = "x"\n  location = "EU"\n'
                                     '  versioning = { enabled = true }\n}\n')
    problems = "\n".join(schema_lint.lint(broken))
    assert "build_config: unknown argument or block 'runtimes'" in problems
    assert "service_config: unknown argument or block 'ingress'" in problems
    assert "host_rule: missing required 'hosts'" in problems
    assert "'versioning' is a block, written as an argument" in problems


def test_terraform_creates_the_topics_of_the_domain_registry() -> None:
    """Publishing to a topic that does not exist fails: the relay would retry forever. Terraform reads
    the topics from infra/pubsub_topics.json, which must be what studio.domains lists today."""
    assert PUBSUB_TOPICS.read_text() == pubsub_topics.render(), "run `python -m infra.pubsub_topics`"
    assert '"${path.module}/../infra/pubsub_topics.json"' in (TERRAFORM_DIR / "manifest.tf").read_text()


def test_terraform_deploys_the_firestore_files_the_tests_check() -> None:
    """One copy: Terraform reads infra/firestore.rules and infra/firestore.indexes.json, which the
    emulator rules tests and tests/unit/test_firestore_indexes.py hold to the code."""
    source = (TERRAFORM_DIR / "firestore.tf").read_text()
    assert '"${path.module}/../infra/firestore.rules"' in source
    assert '"${path.module}/../infra/firestore.indexes.json"' in source
    assert not (TERRAFORM_DIR / "firestore").exists(), "no second copy of the rules or indexes"
    doc = json.loads((TERRAFORM_DIR.parent / "infra" / "firestore.indexes.json").read_text())
    for index in doc["indexes"]:
        kinds = [next(k for k in ("order", "arrayConfig", "vectorConfig") if k in f) for f in index["fields"]]
        assert len(index["fields"]) >= 2 or kinds == ["vectorConfig"]  # a vector index may stand alone
        assert {f["order"] for f in index["fields"] if "order" in f} <= {"ASCENDING", "DESCENDING"}
        assert {f["arrayConfig"] for f in index["fields"] if "arrayConfig" in f} <= {"CONTAINS"}
    # firestore.tf maps each kind of field: an order, an array config, or a vector config
    assert "array_config = try(fields.value.arrayConfig, null)" in source and "vector_config" in source


def _cors_origins(tmp_path: Path, origins: list[str], expression: str = 'join(",", var.cors_origins)') -> str:
    """``expression`` over var.cors_origins, evaluated by ``terraform console``."""
    module = tmp_path / "cors"
    module.mkdir(exist_ok=True)
    shutil.copy(TERRAFORM_DIR / "variables.tf", module / "variables.tf")
    result = terraform(["console", "-var", "project=p", "-var", "environment=dev", "-var", "domain=api.example.com",
                        "-var", f"cors_origins={json.dumps(origins)}"], module, stdin=expression + "\n")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def _cors_validation() -> str:
    """The cors_origins validation condition (``terraform console`` does not run validations itself)."""
    for entry in _tf()["variable"]:
        if '"cors_origins"' in entry:
            condition = entry['"cors_origins"']["validation"][0]["condition"]
            return str(condition).removeprefix("${").removesuffix("}")
    raise AssertionError("no variable cors_origins")


def test_every_function_and_the_realtime_gateway_get_the_allowed_browser_origins(tmp_path: Path) -> None:
    """One variable, passed to every function's and the gateway's STUDIO_CORS_ORIGINS (kernel/cors.py)."""
    source = (TERRAFORM_DIR / "main.tf").read_text()
    assert re.search(r'STUDIO_CORS_ORIGINS\s*=\s*join\(",", var\.cors_origins\)', source)
    fn = _resource("google_cloudfunctions2_function", "function")["service_config"][0]
    assert "local.common_env" in fn["environment_variables"]
    gateway = _module("realtime")
    assert "local.common_env" in gateway["env"]
    assert _variable_default("cors_origins") == []  # deployed: no cross-origin caller unless listed
    assert _cors_origins(tmp_path, ["https://app.example.com", "http://localhost:*"]) == \
        '"https://app.example.com,http://localhost:*"'


@pytest.mark.parametrize(("origin", "valid"), [
    ("https://app.example.com", True), ("http://localhost:*", True), ("https://*.example.com", True),
    ("http://[::1]:8080", True), ("*", True), ("https://app.example.com/", False), ("app.example.com", False),
    ("https://app.example.com/path", False), ("ftp://x.example", False), ("https://a.*.example.com", False),
])
def test_terraform_and_the_runtime_agree_on_which_origins_are_valid(tmp_path: Path, origin: str, valid: bool) -> None:
    """A value Terraform accepts must start the functions; one it refuses fails at plan time, not at run time."""
    from studio.kernel.cors import parse_origins

    accepted = _cors_origins(tmp_path, [origin], _cors_validation()) == "true"
    try:
        parse_origins(origin)
        runtime_accepts = True
    except ValueError:
        runtime_accepts = False
    if valid:
        assert accepted and runtime_accepts, origin
    else:
        assert not accepted, origin  # the runtime may be more lenient (e.g. a trailing slash), never stricter


def test_functions_count_the_client_entry_the_load_balancer_writes() -> None:
    """Per-IP limits read X-Forwarded-For only as configured (kernel/client_ip.py): behind Google's
    ALB, which appends "<client>, <lb>", that is 2 trusted entries, and ingress admits only the LB."""
    assert 'STUDIO_TRUSTED_PROXY_HOPS = "2"' in _locals()["common_env"]
    functions = _resource("google_cloudfunctions2_function", "function")
    assert "ALLOW_INTERNAL_AND_GCLB" in json.dumps(functions)


def test_the_bigquery_analytics_table_has_the_ports_columns_and_is_loaded_from_its_topic() -> None:
    """The table the Pub/Sub subscription writes by column name has exactly the port's columns, with the
    BigQuery type of each; reads go through the deduplicating view; the API is on."""
    from studio.ports.analytics import COLUMNS, TOPIC

    bq_type = {"VARCHAR": "STRING", "TIMESTAMP": "TIMESTAMP", "DOUBLE": "FLOAT"}
    columns = {name: kind.strip('"') for name, kind in _locals()["analytics_columns"].items()}
    assert columns == {name: bq_type[kind] for name, kind in COLUMNS.items()}
    subscription = _resource("google_pubsub_subscription", "analytics_to_bigquery")
    assert subscription["topic"] == f'${{google_pubsub_topic.topic["{TOPIC}"].id}}'
    config = subscription["bigquery_config"][0]
    assert config["use_table_schema"] is True and config["table"].strip('"').endswith("${google_bigquery_table.events_raw.table_id}")
    view = _resource("google_bigquery_table", "events")["view"][0]["query"]
    assert "PARTITION BY event_id" in view and "rn = 1" in view
    assert "bigquery.googleapis.com" in (TERRAFORM_DIR / "apis.tf").read_text()


def test_every_module_call_passes_what_its_module_declares() -> None:
    """Module calls are checked like resources: no argument the module lacks, every required one given
    (the schema lint walks the modules' own resources: it reads terraform/ recursively)."""
    calls = [(name.strip('"'), body) for entry in _tf().get("module", []) for name, body in entry.items()]
    assert {name for name, _ in calls} >= {"realtime", "audit_worker"}
    for name, body in calls:
        source = (TERRAFORM_DIR / str(body["source"]).strip('"')).resolve()
        declared: dict[str, Any] = {}
        for path in source.glob("*.tf"):
            for entry in hcl2.loads(path.read_text()).get("variable", []):
                declared.update({k.strip('"'): v for k, v in entry.items()})
        given = {k for k in body if not k.startswith("__")} - {"source", "count", "for_each", "depends_on", "providers"}
        assert given <= set(declared), f"module {name}: {sorted(given - set(declared))} not declared"
        required = {k for k, v in declared.items() if "default" not in v}
        assert required <= given, f"module {name}: missing {sorted(required - given)}"
    assert 'resource "google_cloud_run_v2_service" ' not in "".join(p.read_text() for p in TERRAFORM_DIR.glob("*.tf")), \
        "a Cloud Run service outside modules/cloud_run_service"


def test_the_broker_is_behind_a_variable_and_reaches_the_gateway_and_the_publishers(tmp_path: Path) -> None:
    """Decision 0075: var.realtime_broker (off by default: small deployments keep Firestore listeners)
    creates a Memorystore instance on a private network, with AUTH and TLS; the gateway and exactly
    the manifest's functions with the `broker` extra get its URL (a secret), its CA and Direct VPC egress."""
    assert _variable_default("realtime_broker") is False
    for rtype, name in (("google_redis_instance", "broker"), ("google_compute_network", "studio"),
                        ("google_compute_subnetwork", "serverless"), ("google_secret_manager_secret", "broker_url")):
        assert _resource(rtype, name)["count"] == "${local.broker}", f"{rtype}.{name}"
    broker = _resource("google_redis_instance", "broker")
    assert broker["auth_enabled"] is True and broker["transit_encryption_mode"].strip('"') == "SERVER_AUTHENTICATION"
    assert broker["authorized_network"] == "${google_compute_network.studio[0].id}"
    loc = _locals()
    assert "STUDIO_REALTIME_BROKER" in loc["broker_secret_env"] and "STUDIO_REALTIME_BROKER_CA" in loc["broker_env"]
    gateway = _module("realtime")
    assert gateway["secret_env"] == "${local.broker_secret_env}" and gateway["vpc"] == "${local.broker_vpc}"
    assert "local.broker_env" in gateway["env"]
    # Decision 0106: hints carry the event, so the safety poll is the feeds' main read: 300 s at scale.
    assert "local.broker_gateway_env" in gateway["env"]
    assert "300" in json.dumps(loc["broker_gateway_env"])
    functions = json.dumps(_resource("google_cloudfunctions2_function", "function"))
    for needle in ("direct_vpc_network_interface", "secret_environment_variables", "local.broker_publishers"):
        assert needle in functions, needle
    readers = _resource("google_secret_manager_secret_iam_member", "broker_url_reader")
    assert readers["for_each"] == "${local.broker_readers}"
    manifest = yaml.safe_load(Path(TERRAFORM_DIR / ".." / "functions" / "manifest.yaml").read_text())
    want = sorted(f["name"] for f in manifest["functions"] if "broker" in f.get("extras", [])
                  and f.get("platform", "function") == "function")
    assert want == ["agent_pipeline", "chat"]  # the functions that write chat messages (chat/hints.py)
    assert _evaluate(manifest, tmp_path, "local.broker_extra_functions") == want

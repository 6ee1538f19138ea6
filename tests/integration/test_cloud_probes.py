"""Cloud probes: over HTTP on the local runtime ("local" identity, billing honestly unreachable, owners and
admins only), and the Google Cloud path against loopback servers that speak the metadata server's and the
Cloud Billing API's HTTP (the machine's edge: neither has an emulator), including every failure: no
metadata server, an error from it, a refused billing call. A failure is ok false with the reason."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from studio.probes.probes import BILLING_URL_ENV, CloudProbes
from tests.support.api import User, add_member, new_user
from tests.support.platform import free_port

PROBES = ("/debug/cloud-identity", "/debug/cloud-billing-probe", "/debug/aws-identity", "/debug/aws-billing-probe")
TOKEN = "ya29.test-token"


def test_local_runtime_answers_local_and_no_billing(client: httpx.Client, owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    identity = client.get("/debug/cloud-identity", headers=h)
    assert identity.status_code == 200
    assert {k: identity.json()[k] for k in ("provider", "ok", "identity", "source", "reason")} == {
        "provider": "gcp", "ok": True, "identity": "local", "source": "local", "reason": None}
    billing = client.get("/debug/cloud-billing-probe", headers=h).json()
    assert billing["ok"] is False and "local runtime" in billing["reason"] and billing["billing_enabled"] is None
    aws = client.get("/debug/aws-identity", headers=h).json()
    assert aws["provider"] == "aws" and aws["identity"] == "local" and set(aws) == set(identity.json())
    aws_billing = client.get("/debug/aws-billing-probe", headers=h).json()
    assert aws_billing["provider"] == "aws" and aws_billing["ok"] is False and set(aws_billing) == set(billing)


def test_probes_are_for_owners_and_admins(client: httpx.Client, owner: User, tenant: str) -> None:
    member = new_user(client, "member")
    add_member(client, owner, tenant, member, "member")
    for path in PROBES:
        r = client.get(path, headers=member.in_tenant(tenant))
        assert r.status_code == 403 and r.json()["code"] == "ROLE_INSUFFICIENT"
        assert client.get(path).status_code == 401


class _Google:
    """The metadata server and Cloud Billing, as far as the probes ask them."""

    def __init__(self) -> None:
        self.billing_status = 200
        self.billing_auth: list[str] = []
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)

    @Request.application
    def app(self, request: Request) -> Response:
        if request.path.startswith("/computeMetadata/v1/"):
            if request.headers.get("Metadata-Flavor") != "Google":
                return Response("Missing Metadata-Flavor", status=403)
            answers = {"instance/service-accounts/default/email": "fn-identity@proj-1.iam.gserviceaccount.com",
                       "project/project-id": "proj-1",
                       "instance/service-accounts/default/token": json.dumps(
                           {"access_token": TOKEN, "expires_in": 3599, "token_type": "Bearer"})}
            found = answers.get(request.path.removeprefix("/computeMetadata/v1/"))
            if found is None:
                return Response("not found", status=404, headers={"Metadata-Flavor": "Google"})
            return Response(found, headers={"Metadata-Flavor": "Google"})
        if request.path == "/v1/projects/proj-1/billingInfo":
            self.billing_auth.append(request.headers.get("Authorization", ""))
            if self.billing_status != 200:
                error = {"error": {"code": 403, "message": "The caller does not have permission", "status": "PERMISSION_DENIED"}}
                return Response(json.dumps(error), status=self.billing_status, content_type="application/json")
            return Response(json.dumps({"name": "projects/proj-1/billingInfo", "projectId": "proj-1",
                                        "billingAccountName": "billingAccounts/0X0X0X-0X0X0X-0X0X0X",
                                        "billingEnabled": True}), content_type="application/json")
        return Response("no", status=404)


@pytest.fixture()
def google(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[_Google]:
    fake = _Google()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("GCE_METADATA_HOST", f"127.0.0.1:{fake.server.server_port}")
    monkeypatch.setenv(BILLING_URL_ENV, f"http://127.0.0.1:{fake.server.server_port}")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "none.json"))
    yield fake
    fake.server.shutdown()


def test_identity_and_billing_from_the_metadata_server(google: _Google) -> None:
    probes = CloudProbes(local=False)
    identity = probes.gcp_identity()
    assert (identity["ok"], identity["identity"], identity["source"], identity["project"]) == (
        True, "fn-identity@proj-1.iam.gserviceaccount.com", "metadata-server", "proj-1")
    billing = probes.gcp_billing()
    assert (billing["ok"], billing["billing_enabled"], billing["billing_account"]) == (
        True, True, "billingAccounts/0X0X0X-0X0X0X-0X0X0X")
    assert google.billing_auth == [f"Bearer {TOKEN}"]
    assert TOKEN not in json.dumps(billing) and TOKEN not in json.dumps(identity)


def test_a_refused_billing_call_is_not_ok_with_the_apis_reason(google: _Google) -> None:
    google.billing_status = 403
    billing = CloudProbes(local=False).gcp_billing()
    assert billing["ok"] is False and billing["billing_enabled"] is None
    assert billing["reason"] == "Cloud Billing answered 403: The caller does not have permission"


def test_no_metadata_server_falls_back_to_adc_then_fails_honestly(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    monkeypatch.setenv("GCE_METADATA_HOST", f"127.0.0.1:{free_port()}")  # nobody listens there
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    probes = CloudProbes(local=False)
    identity = probes.gcp_identity()
    assert identity["ok"] is False and "no metadata server" in identity["reason"]
    assert "no application default credentials" in identity["reason"] and identity["identity"] is None
    billing = probes.gcp_billing()
    assert billing["ok"] is False and "no metadata server" in billing["reason"]

    adc = tmp_path / "sa.json"
    adc.write_text(json.dumps({"type": "service_account", "client_email": "ci@proj-2.iam.gserviceaccount.com",
                               "project_id": "proj-2", "private_key": "not-read"}))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
    found = probes.gcp_identity()
    assert (found["ok"], found["identity"], found["source"], found["project"]) == (
        True, "ci@proj-2.iam.gserviceaccount.com", "adc", "proj-2")
    assert "not-read" not in json.dumps(found)


def test_aws_says_what_it_lacks(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        monkeypatch.delenv(name, raising=False)
    probes = CloudProbes(local=False)
    assert probes.aws_identity()["ok"] is False and "no AWS credentials" in probes.aws_identity()["reason"]
    monkeypatch.setenv("AWS_PROFILE", "ops")
    billing = probes.aws_billing()
    assert billing["ok"] is False and "AWS_PROFILE" in billing["reason"] and "no AWS SDK" in billing["reason"]

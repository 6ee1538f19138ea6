"""Cloud probes for owners and admins: who the runtime runs as, and whether billing data is reachable.

One shape per question for every provider. On ``make serve`` (embedded adapters) the identity is
"local" and billing is not reachable (there is no billing account): said so, ``ok: false``. On Google
Cloud the identity comes from the metadata server (the function's service account), else from
application default credentials; billing from the Cloud Billing API with the metadata server's token.
AWS answers in the same shape; this platform ships no AWS SDK, so it says what it lacks. Any failure is
``ok: false`` with the reason: a probe never pretends.
"""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from studio.kernel.clock import utc_now
from studio.probes import metadata, paths
from studio.probes.metadata import MetadataUnavailable

BILLING_URL_ENV = "STUDIO_CLOUDBILLING_URL"  # tests point it at a loopback stand-in
BILLING_URL = "https://cloudbilling.googleapis.com"
AWS_CREDENTIAL_ENV = ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
                      "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
LOCAL_NO_BILLING = "the local runtime (make serve) has no cloud billing account"


def _identity(provider: str, ok: bool, identity: str | None = None, source: str | None = None,
              project: str | None = None, reason: str | None = None) -> dict[str, Any]:
    return {"provider": provider, "ok": ok, "identity": identity, "source": source, "project": project,
            "reason": reason, "checked_at": utc_now()}


def _billing(provider: str, ok: bool, enabled: bool | None = None, account: str | None = None,
             reason: str | None = None) -> dict[str, Any]:
    return {"provider": provider, "ok": ok, "billing_enabled": enabled, "billing_account": account,
            "reason": reason, "checked_at": utc_now()}


class CloudProbes:
    def __init__(self, *, local: bool) -> None:
        self._local = local  # embedded adapters: the machine runs everything itself

    # --- Google Cloud -----------------------------------------------------------------------------------
    def gcp_identity(self) -> dict[str, Any]:
        if self._local:
            return _identity("gcp", True, "local", "local")
        try:
            email = metadata.get(paths.SERVICE_ACCOUNT_EMAIL).strip()
            return _identity("gcp", True, email, "metadata-server", metadata.get(paths.PROJECT_ID).strip())
        except MetadataUnavailable as exc:
            unavailable = str(exc)
        found = _adc_identity()
        if found is not None:
            return _identity("gcp", True, found[0], "adc", found[1])
        return _identity("gcp", False, reason=f"{unavailable}; and no application default credentials file")

    def gcp_billing(self) -> dict[str, Any]:
        if self._local:
            return _billing("gcp", False, reason=LOCAL_NO_BILLING)
        try:
            token = str(metadata.get_json(paths.SERVICE_ACCOUNT_TOKEN)["access_token"])
            project = metadata.get(paths.PROJECT_ID).strip()
        except (MetadataUnavailable, KeyError) as exc:
            return _billing("gcp", False, reason=f"no token for the billing API: {exc}")
        base = os.environ.get(BILLING_URL_ENV, BILLING_URL).rstrip("/")
        request = urllib.request.Request(base + paths.billing_info(project),
                                         headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(request, timeout=5.0) as response:  # noqa: S310 - https (tests: loopback)
                info = json.loads(response.read(65_536))
        except urllib.error.HTTPError as exc:
            return _billing("gcp", False, reason=f"Cloud Billing answered {exc.code}: {_api_message(exc)}")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            return _billing("gcp", False, reason=f"Cloud Billing not reachable ({getattr(exc, 'reason', exc)})")
        if not isinstance(info, dict) or "billingEnabled" not in info and "name" not in info:
            return _billing("gcp", False, reason="Cloud Billing sent no billing info")
        return _billing("gcp", True, bool(info.get("billingEnabled", False)), info.get("billingAccountName") or None)

    # --- AWS (the audit's /debug/aws-*) ----------------------------------------------------------------
    def aws_identity(self) -> dict[str, Any]:
        if self._local:
            return _identity("aws", True, "local", "local")
        return _identity("aws", False, reason=_aws_missing())

    def aws_billing(self) -> dict[str, Any]:
        if self._local:
            return _billing("aws", False, reason=LOCAL_NO_BILLING)
        return _billing("aws", False, reason=_aws_missing())


def _aws_missing() -> str:
    present = [name for name in AWS_CREDENTIAL_ENV if os.environ.get(name)]
    if not present:
        return "no AWS credentials in this runtime (it runs on Google Cloud)"
    return f"AWS credentials are configured ({', '.join(present)}), but this function ships no AWS SDK to use them"


def _adc_identity() -> tuple[str, str | None] | None:
    """The application default credentials file, read for who it names (no token is fetched)."""
    configured = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    path = Path(configured) if configured else Path.home() / ".config" / "gcloud" / "application_default_credentials.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    if data.get("type") == "service_account" and data.get("client_email"):
        return str(data["client_email"]), data.get("project_id")
    if data.get("type") == "authorized_user":
        return f"user credentials (OAuth client {data.get('client_id', 'unknown')})", data.get("quota_project_id")
    return None


def _api_message(exc: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(exc.read(65_536))
        return str(body["error"]["message"])[:300]
    except (ValueError, KeyError, TypeError, OSError):
        return str(exc.reason)[:300]

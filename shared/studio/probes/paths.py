"""Where the probes read: the probes store no documents; these are the outside paths they ask."""
from __future__ import annotations

SERVICE_ACCOUNT_EMAIL = "instance/service-accounts/default/email"  # metadata server, under /computeMetadata/v1
SERVICE_ACCOUNT_TOKEN = "instance/service-accounts/default/token"
PROJECT_ID = "project/project-id"


def billing_info(project: str) -> str:
    """Cloud Billing API: the project's billing info (billingEnabled, billingAccountName)."""
    return f"/v1/projects/{project}/billingInfo"

"""Error codes of the audits domain."""
from studio.kernel.errors import register

AUDIT_URL_REFUSED = register("AUDIT_URL_REFUSED", 422,
                             "The URL to audit is not a public http(s) address the platform may fetch")
AUDIT_TARGET_INVALID = register("AUDIT_TARGET_INVALID", 422, "An audit takes exactly one of url or html")
AUDIT_BUDGET_INVALID = register("AUDIT_BUDGET_INVALID", 422, "The budget is not a valid Lighthouse budget.json")

"""Audit worker: runs each requested audit in Chromium. A Cloud Run service fed by Pub/Sub push in
production (infra/audit_worker/Dockerfile, terraform/audit_worker.tf); locally the runtime's bus delivers
the same CloudEvent to this entrypoint (decision 0063)."""
import functions_framework

from studio.bootstrap import bootstrap
from studio.kernel.cloudevents import decode_pubsub


@functions_framework.cloud_event
def audit_worker(cloud_event):  # noqa: ANN001 - cloudevents CloudEvent, typed by the framework
    from studio.audits.browser import run_page  # cold start: Playwright loads on the first job
    from studio.audits.services import audits_services

    event = decode_pubsub(cloud_event).json()
    if event.get("type") != "audits.audit_requested":
        return  # not a job: nothing to run
    audits_services(bootstrap()).jobs.run(event["tenant_id"], event["env"], event["data"]["audit_id"], run_page)

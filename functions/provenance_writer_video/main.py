"""Provenance writer: appends the `provenance` object of each domain event to the tenant's ledger, once.

Triggered by `domain.video` (origin snippets; `provenance_writer` takes `domain.media`); events without a provenance object are acknowledged and skipped, and a
redelivered event appends nothing (studio.provenance.writer). A malformed record raises: Pub/Sub
retries it, then dead-letters it.
"""
import functions_framework

from studio.bootstrap import bootstrap
from studio.provenance.writer import writer_for


@functions_framework.cloud_event
def provenance_writer_video(cloud_event):  # noqa: ANN001 - cloudevents CloudEvent, typed by the framework
    writer_for(bootstrap()).handle(cloud_event)

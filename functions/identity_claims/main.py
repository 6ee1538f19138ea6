"""Identity claims: keeps each user's `tenants` custom claim equal to their memberships.

Triggered by every event on `domain.member`; recomputes the user's whole claim (studio.identity.claims),
so redelivered or reordered events are harmless. A failure raises: Pub/Sub retries, then dead-letters.
"""
import functions_framework

from studio.bootstrap import bootstrap
from studio.identity.claims import claims_sync_for


@functions_framework.cloud_event
def identity_claims(cloud_event):  # noqa: ANN001 - cloudevents CloudEvent, typed by the framework
    claims_sync_for(bootstrap()).handle(cloud_event)

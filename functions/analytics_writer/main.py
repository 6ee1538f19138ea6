"""Analytics writer: stores each row published on `analytics.events` and folds it into the subject's signals.

A malformed message raises, so Pub/Sub retries it and then dead-letters it.
"""
import functions_framework

from studio.analytics.writer import writer_for
from studio.bootstrap import bootstrap


@functions_framework.cloud_event
def analytics_writer(cloud_event):  # noqa: ANN001 - cloudevents CloudEvent, typed by the framework
    writer_for(bootstrap()).handle(cloud_event)

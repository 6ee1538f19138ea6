"""Dataset event writer: stores each DatasetEvent published on `dataset-events`, once.

A malformed message raises, so Pub/Sub retries it and then dead-letters it.
"""
import functions_framework

from studio.bootstrap import bootstrap
from studio.events.store_writer import writer_for


@functions_framework.cloud_event
def dataset_event_writer(cloud_event):  # noqa: ANN001 - cloudevents CloudEvent, typed by the framework
    writer_for(bootstrap()).handle(cloud_event)

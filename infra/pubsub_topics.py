"""infra/pubsub_topics.json from the domain registry: the bus topics the code publishes to.

Terraform creates a topic (and its dead-letter topic) for each, besides the topics the manifest's
``pubsub:<topic>`` triggers name (terraform/manifest.tf). A publish to a topic that does not exist
fails, and the outbox relay would retry it forever: a test fails when this file drifts from
``studio.domains``. Run `python -m infra.pubsub_topics` after changing a domain's events or topics."""
from __future__ import annotations

import json
from pathlib import Path

import infra.localrun  # noqa: F401 - puts shared/ on sys.path
from studio import domains

FILE = Path(__file__).resolve().parent / "pubsub_topics.json"


def render() -> str:
    doc = {"generated_by": "python -m infra.pubsub_topics (from shared/studio/domains.py)",
           "topics": domains.topics()}
    return json.dumps(doc, indent=2) + "\n"


if __name__ == "__main__":
    FILE.write_text(render())
    print("wrote", FILE)

"""The runtime configuration's own error codes."""
from __future__ import annotations

from studio.kernel.errors import register

PROVIDER_NOT_DEPLOYED = register("PROVIDER_NOT_DEPLOYED", 422,
                                 "This deployment's agent pipeline does not run that provider")
AGENT_ID_INVALID = register("AGENT_ID_INVALID", 400, "Agent ids are 1-64 of a-z, 0-9, _ and -")
MODEL_NOT_SELECTABLE = register("MODEL_NOT_SELECTABLE", 422,
                                "An in-process provider (local, echo) runs the deployment's one model")

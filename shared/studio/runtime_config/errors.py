"""The runtime configuration's own error codes."""
from __future__ import annotations

from studio.kernel.errors import register

PROVIDER_NOT_DEPLOYED = register("PROVIDER_NOT_DEPLOYED", 422,
                                 "This deployment's agent pipeline does not run that provider")
AGENT_ID_INVALID = register("AGENT_ID_INVALID", 400, "Agent ids are 1-64 of a-z, 0-9, _ and -")

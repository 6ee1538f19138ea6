"""Error codes of the experiments domain (a code's value and status never change once published)."""
from __future__ import annotations

from studio.kernel.errors import register

CONDITION_INVALID = register("CONDITION_INVALID", 400, "The targeting condition is not valid GrowthBook syntax")
WEIGHTS_INVALID = register("WEIGHTS_INVALID", 400, "Variation weights must be one per variation and sum to 1")
EXPERIMENT_KEY_TAKEN = register("EXPERIMENT_KEY_TAKEN", 409, "Another experiment or flag already uses this key")
STATUS_TRANSITION_INVALID = register("STATUS_TRANSITION_INVALID", 409,
                                     "The status may only move draft -> running -> stopped")
DEFINITION_LOCKED = register("DEFINITION_LOCKED", 409,
                             "A stopped experiment or flag no longer changes; a running one keeps its variations")
SDK_KEY_INVALID = register("SDK_KEY_INVALID", 401, "The SDK key is missing, unknown or revoked")
EXPERIMENT_UNKNOWN = register("EXPERIMENT_UNKNOWN", 400, "A flag rule names an experiment this tenant env does not have")
FLAG_NOT_FOUND = register("FLAG_NOT_FOUND", 404, "No flag with this key")
OFREP_CONTEXT_INVALID = register("OFREP_CONTEXT_INVALID", 400, "The evaluation context is not a valid OFREP context")
SIMULATION_REFUSED = register("SIMULATION_REFUSED", 409, "Simulated traffic is refused in prod or before the experiment runs")
ANALYTICS_UNAVAILABLE = register("ANALYTICS_UNAVAILABLE", 503, "The analytics store cannot answer now")

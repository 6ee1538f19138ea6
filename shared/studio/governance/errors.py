"""Governance's own error codes: the refusals of the gates and of the governance routes.

Values and statuses are a contract with clients (the tools helper's invoke path and the chat
agents surface them as they are): never change one, add a new code instead.
"""
from __future__ import annotations

from studio.kernel.errors import register

KILL_SWITCH_ACTIVE = register("KILL_SWITCH_ACTIVE", 403, "A kill switch blocks this provider, model, tool, agent or action")
STRATEGY_LOCKED = register("STRATEGY_LOCKED", 423,
                           "This scope is under a strategy lock: propose the change as a three-wise question")
LICENCE_REQUIRED = register("LICENCE_REQUIRED", 403, "A firearms licence is required for this tool or danger level")
BUDGET_EXCEEDED = register("BUDGET_EXCEEDED", 402, "The call would pass a hard budget limit")
SYSTEM_IDENTITY_REQUIRED = register("SYSTEM_IDENTITY_REQUIRED", 403, "Only a system identity may set platform-wide switches")
LICENCE_NOT_ACTIVE = register("LICENCE_NOT_ACTIVE", 409, "The licence is already revoked or expired")
QUESTION_NOT_OPEN = register("QUESTION_NOT_OPEN", 409, "The three-wise question is no longer open")
VOTE_NOT_ALLOWED = register("VOTE_NOT_ALLOWED", 403, "The proposer may not vote, and each reviewer votes once")
CORRIDOR_INVALID = register("CORRIDOR_INVALID", 422, "A corridor needs floor <= default <= ceiling")

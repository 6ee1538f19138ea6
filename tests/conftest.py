"""Shared fixtures. Everything here uses real parts: real SQLite files, real HTTP."""
from __future__ import annotations

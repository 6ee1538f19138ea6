"""functions/manifest.yaml: loaded and validated once, for the runtime, tests and packaging."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

REPO = Path(__file__).resolve().parents[2]
MANIFEST = REPO / "functions" / "manifest.yaml"
_TRIGGER = re.compile(r"^(http|pubsub:[a-z][a-z0-9._-]{2,}|storage:[a-z][a-z0-9-]{1,}|firestore:[a-z][a-z0-9_]{1,})$")
_IAM_ROLE = re.compile(r"^roles/[a-z][a-zA-Z0-9]*\.[a-zA-Z0-9.]+$")  # predefined service roles: "roles/<service>.<role>"


class FunctionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")
    entrypoint: str = Field(pattern=r"^[a-z][a-z0-9_]{1,60}$")
    trigger: str
    routes: list[str] = Field(default_factory=list)
    extras: list[str] = Field(default_factory=lambda: ["core"])
    memory: str = "256Mi"
    timeout: int = 60
    min_instances: int = 0
    max_instances: int = 10
    # Events (or requests) one instance handles at once: Cloud Functions' per-instance concurrency; locally
    # the number of deliveries of its subscription run in parallel (a thread pool).
    concurrency: int = Field(default=1, ge=1, le=16)
    directory: str = ""  # the function's folder relative to the repo; default functions/<name>
    # Project roles the function's service account needs beyond what its trigger and extras imply
    # (Terraform grants them, terraform/iam.tf): e.g. writing Firebase custom claims.
    iam_roles: list[str] = Field(default_factory=list)
    # Bucket roles an event function reads or writes (HTTP functions and a bucket's own storage
    # trigger get theirs by default; terraform/manifest.tf's bucket_readers).
    buckets: list[str] = Field(default_factory=list)
    # Where Google Cloud runs it: a gen2 Cloud Function, or a Cloud Run service (Chromium does not fit a
    # function) that Terraform builds beside the functions, fed by Pub/Sub push. Locally both run alike.
    platform: Literal["function", "cloud_run"] = "function"

    @field_validator("trigger")
    @classmethod
    def _trigger(cls, value: str) -> str:
        if not _TRIGGER.match(value):
            raise ValueError("trigger must be http, pubsub:<topic>, storage:<bucket-role> or firestore:<collection>")
        return value

    @field_validator("iam_roles")
    @classmethod
    def _iam_roles(cls, value: list[str]) -> list[str]:
        # Only predefined service roles: never a primitive one (roles/owner, editor, viewer).
        for role in value:
            if not _IAM_ROLE.match(role):
                raise ValueError(f"iam_roles: {role!r} is not a predefined service role (roles/<service>.<role>)")
        return value

    @property
    def kind(self) -> Literal["http", "pubsub", "storage", "firestore"]:
        return self.trigger.split(":", 1)[0]  # type: ignore[return-value]

    @property
    def topic(self) -> str:
        return self.trigger.split(":", 1)[1]

    @property
    def source(self) -> Path:
        folder = REPO / self.directory if self.directory else REPO / "functions" / self.name
        return folder / "main.py"


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    functions: list[FunctionSpec]

    def http(self) -> list[FunctionSpec]:
        return [f for f in self.functions if f.kind == "http"]

    def events(self) -> list[FunctionSpec]:
        return [f for f in self.functions if f.kind != "http"]


def load(path: Path = MANIFEST) -> Manifest:
    manifest = Manifest.model_validate(yaml.safe_load(path.read_text()))
    names = [f.name for f in manifest.functions]
    if len(names) != len(set(names)):
        raise ValueError("function names must be unique")
    entrypoints = [f.entrypoint for f in manifest.functions]
    if len(entrypoints) != len(set(entrypoints)):
        raise ValueError("entrypoints must be unique (functions-framework keys its registry by name)")
    prefixes = [r for f in manifest.http() for r in f.routes]
    if len(prefixes) != len(set(prefixes)):
        raise ValueError("two functions claim the same route prefix")
    return manifest

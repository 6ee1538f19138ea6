"""The provenance domain's own error codes (the kernel's NOT_FOUND, VALIDATION_FAILED ... cover the rest)."""
from __future__ import annotations

from studio.kernel.errors import register

C2PA_UNSUPPORTED_FORMAT = register("C2PA_UNSUPPORTED_FORMAT", 415, "C2PA manifests cannot be embedded in this format")
C2PA_NO_MANIFEST = register("C2PA_NO_MANIFEST", 404, "The artifact carries no C2PA manifest")
C2PA_SIGNING_FAILED = register("C2PA_SIGNING_FAILED", 422, "The C2PA manifest could not be signed into the file")
PROVENANCE_UNCANONICAL = register("PROVENANCE_UNCANONICAL", 422,
                                  "The provenance record holds a value canonical JSON cannot carry")
ARTIFACT_BLOB_UNKNOWN = register("ARTIFACT_BLOB_UNKNOWN", 409, "The ledger names no stored file for this artifact")

"""Nexus's own error codes (the kernel's cover not-found, roles and revisions)."""
from studio.kernel.errors import register

NEXUS_DOCUMENT_UNREADABLE = register("NEXUS_DOCUMENT_UNREADABLE", 422,
                                     "The document could not be read as the format it claims")
NEXUS_DOCUMENT_TOO_LARGE = register("NEXUS_DOCUMENT_TOO_LARGE", 413,
                                    "The document has more text or atoms than one ingest takes")
NEXUS_MODEL_UNKNOWN = register("NEXUS_MODEL_UNKNOWN", 422, "The embedding model is not one this platform offers")
NEXUS_REEMBED_RUNNING = register("NEXUS_REEMBED_RUNNING", 409,
                                 "A change of embedding model is still being applied")
NEXUS_LIMIT_REACHED = register("NEXUS_LIMIT_REACHED", 409, "The tenant holds as many Nexus items as it may keep")
NEXUS_ASSET_NOT_DOCUMENT = register("NEXUS_ASSET_NOT_DOCUMENT", 422,
                                    "The media asset is not a readable document (text, Markdown, HTML or PDF)")

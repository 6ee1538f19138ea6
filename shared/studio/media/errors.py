"""Media's own error codes. Values and statuses are a contract with clients: never change one."""
from __future__ import annotations

from studio.kernel.errors import register

MEDIA_TOO_LARGE = register("MEDIA_TOO_LARGE", 413, "The declared or sent media is larger than uploads may be")
MEDIA_TYPE_UNSUPPORTED = register("MEDIA_TYPE_UNSUPPORTED", 415,
                                  "Only image, video, audio and document media are accepted")
MEDIA_MULTIPART_INVALID = register("MEDIA_MULTIPART_INVALID", 400,
                                   "A multipart upload needs exactly one file part named 'file'")
MEDIA_OBJECT_MISSING = register("MEDIA_OBJECT_MISSING", 404, "No such object in the tenant's upload bucket")
MEDIA_OBJECT_REGISTERED = register("MEDIA_OBJECT_REGISTERED", 409, "This object is already an asset")
MEDIA_NOT_READY = register("MEDIA_NOT_READY", 409, "The asset has no content to download yet")
MEDIA_DOCUMENT_TYPE_MISMATCH = register("MEDIA_DOCUMENT_TYPE_MISMATCH", 415,
                                        "The document's bytes are not the type it declares")

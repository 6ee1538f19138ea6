"""The fonts domain's error codes."""
from studio.kernel.errors import register

FONT_UNREADABLE = register("FONT_UNREADABLE", 422, "The file is not a TrueType, OpenType or WOFF2 font")
FONT_EMBEDDING_FORBIDDEN = register("FONT_EMBEDDING_FORBIDDEN", 422,
                                    "The font's licence bits (OS/2 fsType) forbid embedding it")
FONT_MULTIPART_INVALID = register("FONT_MULTIPART_INVALID", 400, "Send multipart/form-data with one non-empty 'file' part")

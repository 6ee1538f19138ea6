"""The video domain's error codes (a published code's value and status never change)."""
from studio.kernel.errors import register

TIMELINE_INVALID = register("TIMELINE_INVALID", 422, "The timeline breaks its schema; errors[] point at each fault")
CLIP_NOT_FOUND = register("CLIP_NOT_FOUND", 404, "No clip or track with that id in the timeline")
RENDER_SOURCE_MISSING = register("RENDER_SOURCE_MISSING", 422, "A clip points at a media asset or artifact that is not there")
RENDER_NOT_CANCELLABLE = register("RENDER_NOT_CANCELLABLE", 409, "The render job has already ended")
PROJECT_REV_MISSING = register("PROJECT_REV_MISSING", 409, "The project is not at that revision")
MASK_NOT_VISUAL = register("MASK_NOT_VISUAL", 422, "A clip's mask is not an image or a video")

"""Text clips that name a font preset (``/fonts/presets``) get its size and a registered font of its family
at the nearest weight, before the plan is built (the dry run and the job apply the same presets)."""
from __future__ import annotations

from studio.fonts import paths as font_paths
from studio.kernel import errors
from studio.ports.store import DocumentStore, Filter, Query
from studio.video.errors import RENDER_SOURCE_MISSING
from studio.video.timeline import TextClip, Timeline


def with_presets(store: DocumentStore, tenant_id: str, env: str, tl: Timeline) -> Timeline:
    out = tl.model_copy(deep=True)
    for track in out.tracks:
        for i, clip in enumerate(track.clips):
            if not isinstance(clip, TextClip) or not clip.font_preset:
                continue
            preset = store.get(font_paths.preset(tenant_id, env, clip.font_preset)) \
                if clip.font_preset.startswith("fp_") else None
            if preset is None:
                raise errors.StudioError(RENDER_SOURCE_MISSING, f"no font preset {clip.font_preset}")
            p = preset.data
            fonts = store.query(Query(font_paths.fonts(tenant_id, env), [Filter("family", "==", p["family"])],
                                      limit=50)).docs
            font_id = clip.font_file
            if font_id is None and fonts:
                font_id = min(fonts, key=lambda d: abs(int(d.data["facts"]["weight"]) - int(p["weight"]))).doc_id
            track.clips[i] = clip.model_copy(update={"font_file": font_id, "size": round(float(p["size_px"]))})
    return out

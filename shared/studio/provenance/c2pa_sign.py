"""C2PA manifests on the images and videos the platform derives, exports or renders: signed in (or
beside, for a format c2pa cannot embed in), read back, validated.

``sign_image`` (``sign_media``) embeds a manifest (claim generator, the actions, the ingredients by sha256) signed with
the deployment's ES256 chain (``signing_chain``); ``read_manifest`` reads one back and validates it
against this deployment's roots. ``c2pa`` (c2pa-python, a native library) is imported inside each call:
a cold start that never signs never loads it.
"""
from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from studio.kernel import errors
from studio.kernel.deps import Deps
from studio.provenance.errors import C2PA_NO_MANIFEST, C2PA_SIGNING_FAILED, C2PA_UNSUPPORTED_FORMAT
from studio.provenance.signing_chain import signing_chain

CLAIM_GENERATOR = {"name": "studio-platform", "version": "1"}
RELATIONSHIPS = ("parentOf", "componentOf", "inputTo")
# IPTC's term for media made by software from other media (C2PA requires one on c2pa.created).
DEFAULT_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeSynthetic"
_ACTION = re.compile(r"^(c2pa|studio)\.[a-z][a-z_.]{0,60}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_ACTIONS = 32
# Actions C2PA requires to reference an ingredient, and which relationships they reference.
_LINKED = {"c2pa.opened": ("parentOf",), "c2pa.placed": ("componentOf",), "c2pa.removed": ("componentOf",)}
MAX_INGREDIENTS = 32
SIDECAR_SUFFIX = ".c2pa"  # a sidecar manifest store lives beside its file: <object name>.c2pa, same bucket
SIDECAR_MIME = "application/c2pa"


def _c2pa() -> Any:
    """c2pa-python, imported on first use (a native library; it ships no type information)."""
    import c2pa  # type: ignore[import-untyped]

    return c2pa


def _bad(detail: str) -> errors.StudioError:
    return errors.StudioError(errors.VALIDATION_FAILED, detail)


def _actions(actions: Sequence[Mapping[str, Any]], ingredients: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not actions or len(actions) > MAX_ACTIONS:
        raise _bad(f"a manifest needs 1 to {MAX_ACTIONS} actions")
    out: list[dict[str, Any]] = []
    for given in actions:
        action = dict(given)
        name = action.get("action")
        if not isinstance(name, str) or not _ACTION.fullmatch(name):
            raise _bad(f"action {name!r} is not a c2pa.* or studio.* action name")
        if "parameters" in action and not isinstance(action["parameters"], Mapping):
            raise _bad(f"{name}: parameters must be an object")
        if name == "c2pa.created":
            action.setdefault("digitalSourceType", DEFAULT_SOURCE_TYPE)
        wanted = _LINKED.get(name)
        if wanted is not None:  # C2PA: these actions name their ingredient; link the matching ones
            ids = [i["instance_id"] for i in ingredients if i["relationship"] in wanted]
            if not ids:
                raise _bad(f"{name} needs a {' or '.join(wanted)} ingredient")
            action["parameters"] = {**dict(action.get("parameters") or {}), "ingredientIds": ids}
        out.append(action)
    return out


def _ingredients(ingredients: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    if len(ingredients) > MAX_INGREDIENTS:
        raise _bad(f"at most {MAX_INGREDIENTS} ingredients")
    out: list[dict[str, Any]] = []
    for ingredient in ingredients:
        sha = ingredient.get("sha256")
        if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
            raise _bad("each ingredient names its content by sha256 (64 lowercase hex digits)")
        relationship = ingredient.get("relationship", "parentOf")
        if relationship not in RELATIONSHIPS:
            raise _bad(f"ingredient relationship must be one of {', '.join(RELATIONSHIPS)}")
        # The parent is named by hash, not embedded: instance_id carries it, so a reader matches the
        # ingredient against the ledger's inputs (and their sha256) without the parent's bytes.
        out.append({"title": str(ingredient.get("title") or sha[:12])[:200], "relationship": relationship,
                    "instance_id": f"sha256:{sha}", "format": str(ingredient.get("format") or "application/octet-stream")})
    if sum(1 for i in out if i["relationship"] == "parentOf") > 1:
        raise _bad("a manifest has at most one parentOf ingredient")
    return out


def _settings(anchors: bytes, **extra: Any) -> dict[str, Any]:
    # No network: no remote manifests, no OCSP. Our roots are user anchors, added to the SDK's list.
    return {"trust": {"user_anchors": anchors.decode()},
            "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}, **extra}


def supported_mime_types() -> list[str]:
    c2pa = _c2pa()

    return list(c2pa.Builder.get_supported_mime_types())


def sign_image(deps: Deps, data: bytes, mime: str, *, title: str, actions: list[dict[str, Any]],
               ingredients: list[dict[str, Any]]) -> bytes:
    """``data`` (an image of type ``mime``) with a signed C2PA manifest embedded: the actions in a
    ``c2pa.actions.v2`` assertion and the ingredients (the parents, by sha256)."""
    return sign_media(deps, data, mime, title=title, actions=actions, ingredients=ingredients)


def embeddable(mime: str) -> bool:
    """Whether c2pa can embed a manifest in a ``mime`` file (MP4 and MOV via BMFF can; WebM cannot)."""
    return mime in _c2pa().Builder.get_supported_mime_types()


def sign_media(deps: Deps, data: bytes, mime: str, *, title: str, actions: list[dict[str, Any]],
               ingredients: list[dict[str, Any]], sidecar: bool = False) -> bytes:
    """``data`` with a signed C2PA manifest embedded (an image, an MP4 ...); or, with ``sidecar``, the
    manifest store alone (``application/c2pa``), bound to the untouched file by a hash of all its bytes
    (``c2pa.hash.data``): what a format c2pa cannot embed in (WebM) carries beside it (decision 0092)."""
    c2pa = _c2pa()

    if not sidecar and mime not in c2pa.Builder.get_supported_mime_types():
        raise errors.StudioError(C2PA_UNSUPPORTED_FORMAT, f"cannot embed a C2PA manifest in {mime!r}")
    chain = signing_chain(deps)
    material = chain.current()
    parts = _ingredients(ingredients)
    manifest = {
        "claim_generator_info": [CLAIM_GENERATOR],
        "title": str(title)[:200],
        "format": mime,
        "assertions": [{"label": "c2pa.actions.v2", "data": {"actions": _actions(actions, parts)}}],
        "ingredients": parts,
    }
    settings = _settings(chain.trust_anchors(), builder={"thumbnail": {"enabled": False}})
    out = io.BytesIO()
    try:
        info = c2pa.C2paSignerInfo(b"es256", material.chain_pem, material.key_pem, None)  # no timestamp authority
        with c2pa.Signer.from_info(info) as signer, c2pa.Context.from_dict(settings) as context, \
                c2pa.Builder(manifest, context=context) as builder:
            if sidecar:
                builder.set_no_embed()
            store = builder.sign(signer, mime, io.BytesIO(data), out)
    except c2pa.C2paError as exc:
        raise errors.StudioError(C2PA_SIGNING_FAILED, f"C2PA signing failed ({type(exc).__name__})") from exc
    return bytes(store) if sidecar else out.getvalue()


def read_manifest(deps: Deps, data: bytes, mime: str, sidecar: bytes | None = None) -> dict[str, Any]:
    """The file's active manifest (embedded, or the ``sidecar`` manifest store beside it) as read back,
    with c2pa's validation: ``validation_state`` is ``Trusted`` (signed by this deployment's chain,
    intact), ``Valid`` (intact, signer unknown) or ``Invalid`` (the file or the manifest changed after
    signing); ``errors`` lists why."""
    c2pa = _c2pa()
    if sidecar is None and mime not in c2pa.Reader.get_supported_mime_types():
        raise errors.StudioError(C2PA_UNSUPPORTED_FORMAT, f"{mime!r} files carry no C2PA manifest")
    try:
        with c2pa.Context.from_dict(_settings(signing_chain(deps).trust_anchors())) as context:
            reader = c2pa.Reader.try_create(mime, io.BytesIO(data), sidecar, context)
            if reader is None:
                raise errors.StudioError(C2PA_NO_MANIFEST, "the file carries no C2PA manifest")
            with reader:
                state = reader.get_validation_state() or "Invalid"
                active = reader.get_active_manifest() or {}
                results = reader.get_validation_results() or {}
    except c2pa.C2paError as exc:
        # A manifest too damaged to parse is a failed validation, not a server error.
        return {"validation_state": "Invalid", "manifest": {}, "errors": [{"code": "manifest.unreadable",
                                                                         "explanation": str(exc)[:500]}]}
    failures = results.get("activeManifest", {}).get("failure", [])
    return {"validation_state": state, "manifest": json.loads(json.dumps(active)),
            "errors": [{"code": str(f.get("code", "")), "explanation": str(f.get("explanation", ""))[:500]}
                       for f in failures]}

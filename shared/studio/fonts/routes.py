"""HTTP routes of the fonts domain: register a font file, list and read the tenant's fonts."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.fonts.errors import FONT_MULTIPART_INVALID
from studio.fonts.fonts import SITE_KEY_SCOPE
from studio.fonts.services import fonts_services
from studio.kernel import errors, site_keys
from studio.kernel.call import Call, Reply, Text
from studio.kernel.model_refs import models
from studio.kernel.roles import Role
from studio.kernel.routing import Router

if TYPE_CHECKING:
    from studio.fonts import models as m
else:  # named here, imported when a request first needs them (kernel/model_refs.py, decision 0082)
    m = models("studio.fonts.models")

fonts = Router("fonts")
CSS2_KEY = site_keys.SiteKeyRule(SITE_KEY_SCOPE, site_keys.KeyPlace.PATH, name="site_key")
MAX_FONT_BYTES = 1 << 20  # the kernel's body limit


@fonts.tenant("POST", "/fonts", role=Role.MEMBER, response=m.FontOut, status=201, reads_body=True)
def register_font(call: Call) -> Any:
    """Register a TTF, OTF or WOFF2 (multipart/form-data: 'file', optional 'public'=true); refused when its
    licence bits forbid embedding."""
    request = call.request
    if request.mimetype != "multipart/form-data":
        raise errors.StudioError(FONT_MULTIPART_INVALID)
    files = request.files.getlist("file")
    if len(files) != 1 or not files[0].filename:
        raise errors.StudioError(FONT_MULTIPART_INVALID)
    data = files[0].read(MAX_FONT_BYTES + 1)
    if not data or len(data) > MAX_FONT_BYTES:
        raise errors.StudioError(FONT_MULTIPART_INVALID, "the file part is empty or larger than 1 MiB")
    public = (request.form.get("public") or "").lower() in ("1", "true", "yes")
    filename = "".join(ch for ch in (files[0].filename or "font")[:255] if ch.isprintable())
    return fonts_services(call.deps).fonts.register(call.need_ctx(), filename or "font", data, public)


# idempotent=False: the answer carries the key, which is never stored whole (not in a replay record either)
@fonts.tenant("POST", "/fonts/site-keys", role=Role.ADMIN, response=m.SiteKeyOut, status=201, idempotent=False)
def create_site_key(call: Call) -> Any:
    """A public site key: its /fonts/{site_key}/css2 stylesheet serves the tenant's public fonts."""
    return fonts_services(call.deps).fonts.create_site_key(call.need_ctx())


@fonts.tenant("POST", "/fonts/site-keys/{key_id}/revoke", role=Role.ADMIN, body=m.SiteKeyRevokeIn,
              response=m.SiteKeyOut)
def revoke_site_key(call: Call) -> Any:
    """Revoke a site key (for good): its stylesheet URL stops answering."""
    return fonts_services(call.deps).fonts.revoke_site_key(call.need_ctx(), call.params["key_id"])


@fonts.tenant("POST", "/fonts/presets", role=Role.MEMBER, body=m.PresetIn, response=m.PresetOut, status=201)
def create_preset(call: Call) -> Any:
    """A named text style: family, weight, size, line height, tracking and OpenType features."""
    return fonts_services(call.deps).presets.create(call.need_ctx(), call.body.model_dump())


@fonts.tenant("GET", "/fonts/presets", role=Role.VIEWER, response=m.PresetList)
def list_presets(call: Call) -> Any:
    """The tenant's text presets, newest first."""
    return fonts_services(call.deps).presets.list_presets(call.need_ctx())


@fonts.tenant("GET", "/fonts/presets/{preset_id}", role=Role.VIEWER, response=m.PresetOut)
def get_preset(call: Call) -> Any:
    """One text preset."""
    from studio.fonts.presets import preset_view

    return preset_view(fonts_services(call.deps).presets.get_doc(call.need_ctx(), call.params["preset_id"]))


def _preset_rev(call: Call) -> int | None:
    return fonts_services(call.deps).presets.current_rev(call.need_ctx(), call.params["preset_id"])


@fonts.tenant("PATCH", "/fonts/presets/{preset_id}", role=Role.MEMBER, body=m.PresetPatch, response=m.PresetOut,
              revisioned=True, current_rev=_preset_rev)
def patch_preset(call: Call) -> Any:
    """Change a preset; needs If-Match or base_rev."""
    fields = call.body.model_dump(exclude={"base_rev"})
    return fonts_services(call.deps).presets.patch(call.need_ctx(), call.params["preset_id"], fields,
                                                   call.expected_rev())


@fonts.tenant("GET", "/fonts/presets/{preset_id}/css", role=Role.VIEWER)
def preset_css(call: Call) -> Any:
    """The preset as CSS custom properties on :root."""
    from studio.fonts.presets import css

    doc = fonts_services(call.deps).presets.get_doc(call.need_ctx(), call.params["preset_id"])
    return Reply(Text(css(doc), "text/css; charset=utf-8"))


@fonts.site_key("GET", "/fonts/{site_key}/css2", rule=CSS2_KEY)
def css2(call: Call) -> Any:
    """Google-Fonts-CSS2 syntax (family=Name:ital,wght@..., display, text): one @font-face per
    unicode-range subset, each a WOFF2 subset named by its content hash. Public: a <link> sends no token."""
    args = call.request.args
    text = args.get("text")
    grant = call.need_site_key()
    sheet = fonts_services(call.deps).css2.stylesheet(grant.tenant_id, grant.env, args.getlist("family"),
                                                      args.get("display", "swap"), text[:2000] if text else None)
    return Reply(Text(sheet, "text/css; charset=utf-8"),
                 headers={"Cache-Control": "public, max-age=86400", "Access-Control-Allow-Origin": "*"})


@fonts.tenant("GET", "/fonts", role=Role.VIEWER, query=m.FontListQuery, response=m.FontList)
def list_fonts(call: Call) -> Any:
    """The tenant's fonts, newest first."""
    return fonts_services(call.deps).fonts.list_fonts(call.need_ctx(), call.query.limit, call.query.page_token)


@fonts.tenant("GET", "/fonts/{font_id}", role=Role.VIEWER, response=m.FontOut)
def get_font(call: Call) -> Any:
    """One font: family, style, weight, width, italic, axes, named instances, subsets and licence bits."""
    return fonts_services(call.deps).fonts.get(call.need_ctx(), call.params["font_id"])


ROUTERS = (fonts,)

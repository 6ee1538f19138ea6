"""Fonts over real HTTP: a TTF and its WOFF2 read by fontTools (names, weight, subsets, licence bits), a
font whose fsType forbids embedding refused, garbage refused, tenancy; and a video text clip rendered with
a registered font by the real render worker (ffmpeg drawtext with the font file)."""
from __future__ import annotations

import io

import httpx
import pytest

from tests.support import media_samples as samples
from tests.support.api import User, new_tenant, new_user
from tests.support.platform import RunningPlatform

DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def _read(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def _font_bytes(fs_type: int | None = None, flavor: str | None = None) -> bytes:
    from fontTools.ttLib import TTFont

    font = TTFont(DEJAVU)
    if fs_type is not None:
        font["OS/2"].fsType = fs_type
    if flavor:
        font.flavor = flavor
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue()


def _register(c: httpx.Client, h: dict[str, str], data: bytes, name: str, public: bool = False) -> httpx.Response:
    return c.post("/fonts", files={"file": (name, data, "font/ttf")}, data={"public": str(public).lower()}, headers=h)


def test_fonts_are_read_refused_and_tenant_scoped(client: httpx.Client, owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    ttf = _register(client, h, _read(DEJAVU), "DejaVuSans.ttf", public=True)
    assert ttf.status_code == 201, ttf.text
    f = ttf.json()
    assert (f["family"], f["style"], f["weight"], f["width"], f["italic"], f["format"]) == (
        "DejaVu Sans", "Book", 400, 5, False, "ttf")
    assert f["fs_type"] == 0 and f["public"] and f["license_url"].startswith("http")
    assert {"latin", "latin-ext", "cyrillic", "greek", "vietnamese"} <= set(f["subsets"])
    woff2 = _register(client, h, _font_bytes(flavor="woff2"), "DejaVuSans.woff2")
    assert woff2.status_code == 201 and woff2.json()["format"] == "woff2" and woff2.json()["family"] == "DejaVu Sans"
    again = _register(client, h, _read(DEJAVU), "copy.ttf")
    assert again.json()["id"] == f["id"]  # one document per content

    restricted = _register(client, h, _font_bytes(fs_type=0x0002), "restricted.ttf")
    assert restricted.status_code == 422 and restricted.json()["code"] == "FONT_EMBEDDING_FORBIDDEN", restricted.text
    garbage = _register(client, h, b"\x00\x01\x00\x00" + b"nope" * 50, "bad.ttf")
    assert garbage.status_code == 422 and garbage.json()["code"] == "FONT_UNREADABLE"
    assert client.post("/fonts", json={"file": "x"}, headers=h).json()["code"] == "FONT_MULTIPART_INVALID"

    listed = client.get("/fonts", headers=h).json()["fonts"]
    assert {x["id"] for x in listed} == {f["id"], woff2.json()["id"]}
    assert client.get(f"/fonts/{f['id']}", headers=h).json()["sha256"] == f["sha256"]
    other = new_user(client, "other")
    oh = other.in_tenant(new_tenant(client, other))
    assert client.get(f"/fonts/{f['id']}", headers=oh).status_code == 404
    assert client.get("/fonts/fn_../../x", headers=h).status_code == 404


@pytest.mark.usefixtures("media_tools")
def test_a_text_clip_renders_with_a_registered_font(client: httpx.Client, platform: RunningPlatform, owner: User,
                                                    tenant: str) -> None:
    h = owner.in_tenant(tenant)
    font = _register(client, h, _read("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
                     "DejaVuSans-Bold.ttf").json()
    assert font["weight"] == 700
    r = client.post("/media-v2/assets", files={"file": ("c.mp4", samples.clip(1.0, 320, 240), "video/mp4")},
                    headers=h)
    platform.drain()
    tl = {"tracks": [{"id": "v", "kind": "video", "clips": [{"id": "a", "source": r.json()["id"], "in": 0, "out": 1}]},
                     {"id": "t", "kind": "text", "clips": [{"id": "x", "text": "Bold", "duration": 1,
                                                             "font_file": font["id"], "size": 60}]}],
          "output": {"width": 320, "height": 240}}
    project = client.post("/video/projects", json={"name": "t", "timeline": tl}, headers=h).json()
    plan = client.post("/video/render/dry-run", json={"project_id": project["id"], "rev": 1}, headers=h).json()
    assert "{font:" + font["id"] + "}" in plan["chunks"][0]["filter"]
    job = client.post("/video/render", json={"project_id": project["id"], "rev": 1}, headers=h).json()
    platform.drain()
    done = client.get(f"/video/render/jobs/{job['id']}", headers=h).json()
    assert done["status"] == "done", done

"""Fonts over real HTTP: a TTF and its WOFF2 read by fontTools (names, weight, subsets, licence bits), a
font whose fsType forbids embedding refused, garbage refused, tenancy; and a video text clip rendered with
a registered font by the real render worker (ffmpeg drawtext with the font file)."""
from __future__ import annotations

import io
import re

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


def test_css2_serves_woff2_subsets_that_chromium_renders(client: httpx.Client, platform: RunningPlatform,
                                                         owner: User, tenant: str) -> None:
    from fontTools.ttLib import TTFont

    from studio.fonts.inspect_font import SUBSETS

    h = owner.in_tenant(tenant)
    public = _register(client, h, _read(DEJAVU), "DejaVuSans.ttf", public=True).json()
    _register(client, h, _read("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"), "Bold.ttf", public=False)
    key = client.post("/fonts/site-keys", headers=h)
    assert key.status_code == 201, key.text
    url = key.json()["css2"]
    r = httpx.get(platform.base_url + url, params=[("family", "DejaVu Sans:wght@100..900"), ("display", "swap")],
                  timeout=120)  # the first request subsets every range (the cached ones are fast)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/css"), r.text
    assert "max-age" in r.headers["cache-control"]
    faces = r.text.split("@font-face")[1:]
    assert len(faces) == len(public["subsets"]) and "font-display: swap" in faces[0]
    for face, name in zip(faces, [n for n in SUBSETS if n in public["subsets"]], strict=True):
        src = re.search(r"url\((.+?)\) format\('woff2'\)", face)
        assert src is not None and re.search(r"/fonts/[0-9a-f]{64}\.woff2", src.group(1))
        woff2 = TTFont(io.BytesIO(httpx.get(src.group(1), timeout=10).content))
        assert woff2.flavor == "woff2"
        cps = set(woff2.getBestCmap())
        assert cps and all(any(lo <= cp <= hi for lo, hi in SUBSETS[name]) for cp in cps), name
    # text= gives one exact subset; a second request reuses the stored files
    exact = httpx.get(platform.base_url + url, params={"family": "DejaVu Sans", "text": "Hi!"})
    assert exact.text.count("@font-face") == 1 and "U+0021, U+0048, U+0069" in exact.text
    src = re.search(r"url\((.+?)\)", exact.text)
    assert src is not None and set(TTFont(io.BytesIO(httpx.get(src.group(1)).content)).getBestCmap()) == {
        0x21, 0x48, 0x69}
    assert httpx.get(platform.base_url + url, params={"family": "DejaVu Sans", "text": "Hi!"}).text == exact.text
    # the bold is not public: not served; bad syntax and unknown keys answer problems, never a 500
    bold = httpx.get(platform.base_url + url, params={"family": "DejaVu Sans:wght@700"})
    assert bold.status_code == 404
    assert httpx.get(platform.base_url + url, params={"family": "X:opsz@9"}).status_code == 400
    unknown = httpx.get(platform.base_url + "/fonts/fk_" + "0" * 24 + "/css2", params={"family": "A"})
    assert unknown.status_code == 401 and unknown.json()["code"] == "SITE_KEY_INVALID"

    from playwright.sync_api import sync_playwright

    from tests.support.browser import CHROMIUM, FLAGS

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page()
            page.goto(platform.base_url + "/docs")
            family = "DejaVu Sans:wght@100..900"
            page.evaluate("""(href) => new Promise((ok) => {
                const link = document.createElement('link');
                link.rel = 'stylesheet'; link.href = href; link.onload = ok;
                document.head.append(link);
                const p = document.createElement('p');
                p.id = 'sample'; p.textContent = 'Hello Привет Γειά';
                p.style.fontFamily = "'DejaVu Sans', monospace";
                document.body.append(p);
            })""", f"{url}?family={family}&display=swap")
            loaded = page.evaluate("""async () => {
                await document.fonts.load("16px 'DejaVu Sans'", 'Hello Привет Γειά');
                await document.fonts.ready;
                return [...document.fonts].filter((f) => f.family.replace(/"/g, '') === 'DejaVu Sans'
                                                          && f.status === 'loaded').length;
            }""")
            assert loaded >= 3  # latin, cyrillic and greek faces fetched and loaded
            assert page.evaluate("() => document.fonts.check(\"16px 'DejaVu Sans'\", 'Hello')")
            computed = page.locator("#sample").evaluate("p => getComputedStyle(p).fontFamily")
            assert computed.startswith('"DejaVu Sans"'), computed
        finally:
            browser.close()


@pytest.mark.usefixtures("media_tools")
def test_presets_are_css_and_style_video_text(client: httpx.Client, platform: RunningPlatform, owner: User,
                                              tenant: str) -> None:
    h = owner.in_tenant(tenant)
    _register(client, h, _read(DEJAVU), "Book.ttf")
    bold = _register(client, h, _read("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"), "Bold.ttf").json()
    made = client.post("/fonts/presets", json={"name": "Title", "family": "DejaVu Sans", "weight": 650, "size_px": 40,
                                               "line_height": 1.1, "tracking_em": 0.02, "features": ["liga", "ss01"]},
                       headers=h)
    assert made.status_code == 201, made.text
    preset = made.json()
    css = client.get(f"/fonts/presets/{preset['id']}/css", headers=h)
    assert css.headers["content-type"].startswith("text/css")
    assert "--font-title-family: 'DejaVu Sans'" in css.text and "--font-title-weight: 650;" in css.text
    assert '--font-title-features: "liga" 1, "ss01" 1;' in css.text and "--font-title-size: 40px;" in css.text
    url = f"/fonts/presets/{preset['id']}"
    assert client.patch(url, json={"size_px": 36}, headers=h).status_code == 428
    assert client.patch(url, json={"size_px": 36, "base_rev": 1}, headers=h).json()["size_px"] == 36
    assert [p["id"] for p in client.get("/fonts/presets", headers=h).json()["presets"]] == [preset["id"]]
    bad = client.post("/fonts/presets", json={"name": "x", "family": "a'}b", "weight": 400}, headers=h)
    assert bad.status_code in (400, 422)

    r = client.post("/media-v2/assets", files={"file": ("c.mp4", samples.clip(1.0, 320, 240), "video/mp4")},
                    headers=h)
    platform.drain()
    tl = {"tracks": [{"id": "v", "kind": "video", "clips": [{"id": "a", "source": r.json()["id"], "in": 0, "out": 1}]},
                     {"id": "t", "kind": "text", "clips": [{"id": "x", "text": "Title", "duration": 1,
                                                             "font_preset": preset["id"]}]}],
          "output": {"width": 320, "height": 240}}
    project = client.post("/video/projects", json={"name": "t", "timeline": tl}, headers=h).json()
    plan = client.post("/video/render/dry-run", json={"project_id": project["id"], "rev": 1}, headers=h).json()
    assert "{font:" + bold["id"] + "}" in plan["chunks"][0]["filter"]  # weight 650: the bold is nearest
    assert "fontsize=36" in plan["chunks"][0]["filter"]
    job = client.post("/video/render", json={"project_id": project["id"], "rev": 1}, headers=h).json()
    platform.drain()
    assert client.get(f"/video/render/jobs/{job['id']}", headers=h).json()["status"] == "done"

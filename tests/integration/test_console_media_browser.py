"""The /console/media page in headless Chromium (Debian's, driven by Playwright): sign up, drop a
photo, watch its processing live on the meta channel, then see its variants (AVIF, WebP and JPEG,
each decoded by Chromium itself), its BlurHash placeholder and its provenance chain, verified."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import media_samples
from tests.support.console import console_page
from tests.support.platform import RunningPlatform

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("media_tools")]


def test_drop_a_photo_and_watch_it_become_variants(platform: RunningPlatform, delivering: None,
                                                   tmp_path: Path) -> None:
    from playwright.sync_api import expect

    photo = tmp_path / "holiday.jpg"
    photo.write_bytes(media_samples.photo(2000, 1000, orientation=6))
    with console_page(platform, "media") as console:
        page = console.page
        stages: list[str] = []
        console.sign_up("media")
        expect(page.locator("#status")).to_have_text("Connected: processing shows live.", timeout=15_000)
        page.expose_function("noteStage", lambda text: stages.append(text))
        page.evaluate("""() => new MutationObserver((records) => records.forEach((r) =>
            window.noteStage(r.target.textContent || ''))).observe(document.getElementById('assets'),
            {subtree: true, childList: true, characterData: true})""")
        page.set_input_files("#file", str(photo))
        card = page.locator("article.asset").first
        expect(card.locator("h2")).to_have_text("holiday.jpg")
        expect(card.locator(".stage")).to_contain_text("ready (image, image/jpeg", timeout=60_000)
        assert any("optimising" in s for s in stages), stages  # progress arrived live, before ready
        expect(card.locator("figure.artifact[data-kind=variant]")).to_have_count(6)
        expect(card.locator("canvas.placeholder")).to_be_visible()
        # Chromium decodes every variant: AVIF, WebP and JPEG, upright (portrait), at its width.
        decoded = page.evaluate("""async () => Promise.all([...document.querySelectorAll(
            'figure.artifact[data-kind=variant] img')].map(async (img) => { await img.decode();
            return [img.currentSrc.includes('.avif') ? 'avif' : img.currentSrc.includes('.webp') ? 'webp' : 'jpg',
                    img.naturalWidth, img.naturalHeight]; }))""")
        assert sorted(decoded) == sorted([f, w, w * 2] for f in ("avif", "webp", "jpg") for w in (320, 640))
        picture = page.evaluate("""async () => { const img = document.querySelector('picture img');
            await img.decode(); return [img.currentSrc.includes('.avif'), img.naturalWidth > 0]; }""")
        assert picture == [True, True]  # the <picture> picked AVIF from the srcset
        painted = page.evaluate("""() => { const c = document.querySelector('canvas.placeholder');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            return new Set(Array.from({length: d.length / 4}, (_, i) => d[i * 4] + ',' + d[i * 4 + 1])).size; }""")
        assert painted > 4  # the BlurHash decoded into a gradient, not a flat fill
        # Its provenance: one derive edge per artifact, and the tenant's chain verified.
        expect(card.locator(".provenance ol.chain li")).to_have_count(7, timeout=15_000)
        expect(card.locator(".provenance .verified")).to_contain_text("verified")
        page.screenshot(path="/tmp/console-media.png", full_page=True)

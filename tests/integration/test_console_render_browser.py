"""The /console/render page in headless Chromium: sign up, upload a clip, build a timeline of it with a
title, render, watch the progress bar move live (render.progress on the meta channel), play the result."""
from __future__ import annotations

import tempfile

import pytest

from tests.support import media_samples as samples
from tests.support.console import console_page
from tests.support.platform import RunningPlatform

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("media_tools")]


@pytest.mark.usefixtures("delivering")
def test_build_render_watch_and_play(platform: RunningPlatform) -> None:
    from playwright.sync_api import expect

    with tempfile.NamedTemporaryFile(suffix=".mp4") as clip:
        clip.write(samples.clip(2.0, 320, 240))
        clip.flush()
        with console_page(platform, "render") as console:
            page = console.page
            console.sign_up("editor")
            expect(page.locator("#status")).to_have_text("Signed in: upload or pick clips.", timeout=15_000)
            page.set_input_files("#file", clip.name)
            page.click("#upload-btn")
            expect(page.locator("#status")).to_have_text("Clip ready.", timeout=60_000)
            expect(page.locator("#assets input")).to_have_count(1)
            page.fill("#seconds", "2")
            page.select_option("#codec", "vp9")  # WebM: every Chromium build plays it
            page.click("#render")
            expect(page.locator("#status")).to_have_text("Render done.", timeout=120_000)
            assert page.evaluate("() => state.ticks") >= 2  # progress seen live, chunk by chunk
            expect(page.locator("#chunks li").first).to_have_text("chunk 0: done")
            assert page.locator("#progress").evaluate("p => p.value") == 100
            page.wait_for_function("() => document.getElementById('result').readyState >= 1", timeout=30_000)
            duration = page.locator("#result").evaluate("v => v.duration")
            assert abs(duration - 2.0) < 0.1, duration
            assert page.locator("#result").evaluate("v => v.videoWidth") == 320
            page.screenshot(path="/tmp/console-render.png", full_page=True)

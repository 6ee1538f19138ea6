"""Bot filtering: user agents of crawlers, monitors and HTTP libraries never count as visitors.

Patterns in the spirit of the ``isbot`` package's list (crawlers announce themselves with "bot",
"crawl", "spider", or a known name). Headless Chromium is NOT treated as a bot: the studio's own
console and end-to-end tests drive real pages with it, and a site that wants it dropped can filter
it on ``props``. An empty user agent is a bot: every browser sends one.
"""
from __future__ import annotations

import re

_BOT = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|mediapartners|facebookexternalhit|embedly|quora link preview|"
    r"pinterest|bingpreview|whatsapp|telegram|discordbot|lighthouse|pagespeed|pingdom|uptime|"
    r"statuscake|site24x7|gtmetrix|curl/|wget/|python-requests|python-urllib|aiohttp|go-http-client|"
    r"java/|okhttp|libwww|httpclient|axios/|node-fetch|scrapy|phantomjs|feedfetcher|archive\.org",
    re.IGNORECASE)


def is_bot(user_agent: str | None) -> bool:
    ua = (user_agent or "").strip()
    return not ua or _BOT.search(ua) is not None

"""What an upload is, from its bytes: supported kinds, quarantined executables and polyglots,
unsupported types, and declared-type mismatches recorded leniently."""
from __future__ import annotations

import pytest

from studio.media.images import target_widths
from studio.media.sniff import declared_matches, sniff
from tests.support import media_samples as samples


@pytest.mark.parametrize(("make", "mime", "kind"), [
    (lambda: samples.photo(64, 48, orientation=1), "image/jpeg", "image"),
    (samples.png, "image/png", "image"),
])
def test_media_is_recognised_by_its_bytes(make, mime: str, kind: str) -> None:  # noqa: ANN001
    found = sniff(make())
    assert (found.mime, found.kind, found.verdict) == (mime, kind, "ok")


@pytest.mark.parametrize(("data", "reason"), [
    (samples.executable(), "executable"),
    (b"\x7fELF\x02\x01\x01" + b"\0" * 100, "executable"),
    (b"#!/bin/sh\nrm -rf /\n", "executable"),
    (b"<html><script>alert(1)</script></html>", "script"),
    (samples.polyglot_png(), "polyglot"),
    (samples.png() + b"<?php echo 1; ?>", "polyglot"),
])
def test_executables_and_polyglots_are_quarantined(data: bytes, reason: str) -> None:
    found = sniff(data)
    assert found.verdict == "quarantine" and reason in (found.reason or "")


def test_other_types_are_unsupported() -> None:
    for data in (b"PK\x03\x04" + b"\0" * 100, b"\xff\xfe\x00t\x00e\x00x\x00t", b"caf\xe9 latin-1, not UTF-8",
                 b"text with a NUL\x00 in it"):
        found = sniff(data, "text/plain")
        assert (found.verdict, found.kind, found.reason) == ("unsupported", None, "unsupported")


@pytest.mark.parametrize(("data", "declared", "mime"), [
    (b"%PDF-1.7\n" + b"x" * 100, None, "application/pdf"),
    (b"%PDF-1.7\n" + b"x" * 100, "text/plain", "application/pdf"),  # the bytes decide; the ingest sees the lie
    (b"plain text, nothing else", None, "text/plain"),
    ("# Titre\n\nUn caf\u00e9, des accents.\n".encode(), "text/markdown", "text/markdown"),
    (b"# Notes\n", "text/x-markdown", "text/markdown"),
    (b"<html><body><p>hi</p><script>x()</script></body></html>", "text/html", "text/html"),
    (b"\xef\xbb\xbfwith a byte-order mark\r\n", "text/plain", "text/plain"),
])
def test_documents_are_recognised_by_their_bytes(data: bytes, declared: str | None, mime: str) -> None:
    found = sniff(data, declared)
    assert (found.mime, found.kind, found.verdict) == (mime, "document", "ok")


@pytest.mark.parametrize(("data", "declared"), [
    (b"# Notes\n<script>steal()</script>", "text/markdown"),  # markup posing as plain text
    (b"<html><body>hi</body></html>", "text/plain"),
    (b"<html><?php system($_GET['c']); ?></html>", "text/html"),  # server script even in declared HTML
])
def test_markup_is_a_document_only_when_declared_html(data: bytes, declared: str) -> None:
    assert sniff(data, declared).verdict == "quarantine"


def test_a_document_type_is_compared_strictly() -> None:
    assert declared_matches("text/x-markdown", "text/markdown") and declared_matches("application/pdf", "application/pdf")
    assert not declared_matches("application/pdf", "image/png") and not declared_matches("image/png", "application/pdf")
    assert not declared_matches("application/pdf", "text/plain")


def test_a_declared_type_is_compared_leniently() -> None:
    assert declared_matches("image/jpg", "image/jpeg") and declared_matches("audio/wav", "audio/x-wav")
    assert declared_matches(None, "image/png")
    assert not declared_matches("image/png", "image/jpeg")


def test_variant_widths_never_upscale() -> None:
    assert target_widths(4000) == [320, 640, 1280, 1920]
    assert target_widths(1000) == [320, 640]
    assert target_widths(200) == [200]  # narrower than the smallest: its own width, once

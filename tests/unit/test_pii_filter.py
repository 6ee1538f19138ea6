"""PII filter: detection tables (true positives and near misses per type), overlaps, scrubbing."""
from __future__ import annotations

import copy
from enum import StrEnum

import phonenumbers
import pytest

from studio.privacy.pii import (
    Finding,
    PiiType,
    ScrubResult,
    find_pii,
    scrub_text,
    scrub_value,
    shannon_entropy,
)

# Secret-shaped fixtures are assembled at runtime so that secret scanners (e.g. push protection) do not
# mistake this file for a leak. None of them is a real credential.
AWS_KEY_ID = "AKIA" + "IOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"
OPENAI_KEY = "sk-" + "proj-Ab3dEf6hIj9kLm2nOp5qRs8t"
OPENAI_LOW_ENTROPY = "sk-" + "a" * 24
STRIPE_KEY = "sk_" + "live_" + "4eC39HqLyjWDarjtT1zdp7dc"
GOOGLE_KEY = "AIza" + "Sy" + "A1b2C3d4E5" * 3 + "xyz"
GITHUB_TOKEN = "ghp_" + "A1b2C3d4E5" * 3 + "f6G7h8"
GITHUB_PAT = "github_pat_" + "11ABCDEFG0" + "_" + "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7"
SLACK_TOKEN = "xoxb-" + "123456789012-1234567890123-" + "AbCdEfGhIjKlMnOpQrStUvWx"
JWT = (
    "eyJ" + "hbGciOiJIUzI1NiJ9"
    + ".eyJ" + "zdWIiOiIxMjM0NTY3ODkwIn0"
    + ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)
BEARER_TOKEN = "mF_9.B5f-4.1JqM" + "Zx8Qw2Er7Ty3Ui6Op"
PEM = "-----BEGIN RSA " + "PRIVATE KEY-----\nMIIEowIBAAKCAQEA1b2c3d4e5f6\nQQ==\n-----END RSA " + "PRIVATE KEY-----"
BASE64_SECRET = "pqohM8bxkCRdb/h1DN2FY2XnqkX05QeS"
LOWER_RANDOM = "k3j5h2lkjhqwe8r7t6y5u4i3o2p1abcd"
JUST_ABOVE_THRESHOLD = "deDBag3FAcbdDdEE1CDAfd4cF2fb2GbECG"  # 4.02 bits/char
JUST_BELOW_THRESHOLD = "CdBDcbAGBBgBAfDbECDcFDBCBGdga1ECaE"  # 3.61 bits/char
GIT_SHA = "3f786850e387550fdab836ed7e6dc881de23001b"
UUID_HIGH_ENTROPY = "873dbd2f-51e3-4108-9afa-42e7026c59b7"  # picked for entropy >= 4.0
URL_PATH = "/api/v1/projects/12345/datasets/67890/events"


def detected(text: str) -> list[tuple[PiiType, str]]:
    return [(f.type, text[f.start : f.end]) for f in find_pii(text)]


# --- per-type tables -------------------------------------------------------------------------------------

EMAIL_POSITIVES = [
    ("Contact alice@example.com today", "alice@example.com"),
    ("first.last+tag@mail.example.co.uk.", "first.last+tag@mail.example.co.uk"),
    ("<bob_99@sub-domain.example.io>", "bob_99@sub-domain.example.io"),
    ("mailto:OPS@Example.ORG", "OPS@Example.ORG"),
]
EMAIL_NEAR_MISSES = ["root@localhost", "npm i lodash@4.17.21", "follow @studio", "x@y.c", "alice at example dot com"]

PHONE_POSITIVES = [
    ("Call +49 30 1234567 now", "+49 30 1234567"),
    ("US desk: +1 202 555 0143", "+1 202 555 0143"),
    ("(415) 555-2671", "(415) 555-2671"),
    ("London 020 7946 0958", "020 7946 0958"),
    ("Paris +33 1 23 45 67 89", "+33 1 23 45 67 89"),
    ("tel:+442079460958", "+442079460958"),
]
PHONE_NEAR_MISSES = [
    "zip 12345",
    "in 2026",
    "due 2026-01-15",
    "at 2026-01-15T10:30:00Z",
    "build 10.0.19045",
    "epoch 1700000000",
]

CARD_POSITIVES = [
    ("4111 1111 1111 1111", "4111 1111 1111 1111"),
    ("4111-1111-1111-1111", "4111-1111-1111-1111"),
    ("pay with 4111111111111111.", "4111111111111111"),
    ("MC 5555 5555 5555 4444 exp 12/29", "5555 5555 5555 4444"),
    ("amex 3782 822463 10005", "3782 822463 10005"),
    ("visa13 4222222222222", "4222222222222"),
    ("19 digits 4512345678901234564", "4512345678901234564"),
    ("4111 1111 1111 1111 123", "4111 1111 1111 1111"),  # trailing CVV is not swallowed
    ("visa 4222222222222 006", "4222222222222 006"),  # valid at 13 and 16 digits: the longest wins
    ("4111111111111111,25,EUR", "4111111111111111"),  # a CSV row
]
CARD_NEAR_MISSES = [
    "4111 1111 1111 1112",  # fails Luhn
    "4111111111111112",
    "1234 5678 9012 3456",
    "4111 1111 1111",  # 12 digits
    "41111111111111111111",  # 20 digits in one run
    "pi 3.14159265358979323846",
    "ratio 0.4111111111111111",  # Luhn-valid digits, but the fraction of a decimal
    "4111111111111111.5 units",
]

IP_POSITIVES = [
    ("host 192.168.1.1", "192.168.1.1"),  # an address, not a phone number
    ("from 2001:db8::8a2e:370:7334.", "2001:db8::8a2e:370:7334"),
]
IP_NEAR_MISSES = ["version 1.2.3.4.5", "at 10:30:00", "999.1.1.1", "std::vector"]

IBAN_POSITIVES = [
    ("DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00"),
    ("iban=DE89370400440532013000;", "DE89370400440532013000"),
    ("GB82WEST12345698765432", "GB82WEST12345698765432"),
    ("gb82 west 1234 5698 7654 32", "gb82 west 1234 5698 7654 32"),
    ("FR14 2004 1010 0505 0001 3M02 606", "FR14 2004 1010 0505 0001 3M02 606"),
    ("Pay DE89 3704 0044 0532 0130 00 by Friday", "DE89 3704 0044 0532 0130 00"),
]
IBAN_NEAR_MISSES = [
    "DE88370400440532013000",  # wrong check digits
    "GB82WEST12345698765433",
    "XX89370400440532013000",  # no such country
    "GB82WEST1234569876543",  # too short for GB
    "DE89 3704 0044 0532 0130",  # truncated
]

SECRET_POSITIVES = [
    (f"OPENAI_API_KEY={OPENAI_KEY}", OPENAI_KEY),
    (f"key {OPENAI_LOW_ENTROPY}", OPENAI_LOW_ENTROPY),  # the prefix rule needs no entropy
    (f"stripe: {STRIPE_KEY}", STRIPE_KEY),
    (f"aws_access_key_id = {AWS_KEY_ID}", AWS_KEY_ID),
    (f"aws_secret_access_key = {AWS_SECRET}", AWS_SECRET),  # generic high-entropy rule
    (f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}", AWS_SECRET),  # NAME=value: the name is kept
    (f"blob {BASE64_SECRET}== end", f"{BASE64_SECRET}=="),  # base64 padding belongs to the token
    (f"maps key {GOOGLE_KEY}", GOOGLE_KEY),
    (f"token {GITHUB_TOKEN}", GITHUB_TOKEN),
    (f"token {GITHUB_PAT}", GITHUB_PAT),
    (f"slack {SLACK_TOKEN}", SLACK_TOKEN),
    (f"id_token: {JWT}", JWT),
    (f"key file:\n{PEM}\nend", PEM),
    (f"Authorization: Bearer {BEARER_TOKEN}", BEARER_TOKEN),
    (f"secret {BASE64_SECRET}", BASE64_SECRET),
    (LOWER_RANDOM, LOWER_RANDOM),
    (JUST_ABOVE_THRESHOLD, JUST_ABOVE_THRESHOLD),
    (f"https://example.com/invite/{LOWER_RANDOM}", LOWER_RANDOM),  # random segment of a lower-case path
]
SECRET_NEAR_MISSES = [
    "AKIA" + "IOSFODNN7EXAMPL",  # AWS key id one character short
    "akia" + "iosfodnn7example",
    "Antidisestablishmentarianism",  # long word, no digits
    "sk-short",
    "the bearer of this letter is entitled",
    GIT_SHA,
    "a" * 40 + "1",  # long but low entropy
    JUST_BELOW_THRESHOLD,
    "AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGhIj",  # high entropy, but no digits
    "task-management-platform-design-doc-v2",  # lower-case slug
    "ds_2026_01_15_events_export_v3_final",
    URL_PATH,
    "https://example.com" + URL_PATH,
]


@pytest.mark.parametrize(
    ("pii_type", "text", "expected"),
    [(PiiType.EMAIL, t, e) for t, e in EMAIL_POSITIVES]
    + [(PiiType.PHONE, t, e) for t, e in PHONE_POSITIVES]
    + [(PiiType.CARD, t, e) for t, e in CARD_POSITIVES]
    + [(PiiType.IBAN, t, e) for t, e in IBAN_POSITIVES]
    + [(PiiType.IP_ADDRESS, t, e) for t, e in IP_POSITIVES]
    + [(PiiType.SECRET, t, e) for t, e in SECRET_POSITIVES],
)
def test_true_positive(pii_type: PiiType, text: str, expected: str) -> None:
    assert detected(text) == [(pii_type, expected)]


@pytest.mark.parametrize(
    "text", EMAIL_NEAR_MISSES + PHONE_NEAR_MISSES + CARD_NEAR_MISSES + IBAN_NEAR_MISSES + SECRET_NEAR_MISSES
    + IP_NEAR_MISSES
)
def test_near_miss_is_not_flagged(text: str) -> None:
    assert find_pii(text) == []


# --- deliberate decisions about identifiers -------------------------------------------------------------


def test_threshold_fixtures_sit_on_either_side_of_four_bits() -> None:
    assert 4.0 <= shannon_entropy(JUST_ABOVE_THRESHOLD) < 4.1
    assert 3.5 < shannon_entropy(JUST_BELOW_THRESHOLD) < 4.0


def test_git_sha_entropy_is_below_threshold() -> None:
    assert len(GIT_SHA) == 40
    assert shannon_entropy(GIT_SHA) < 4.0
    assert find_pii(f"commit {GIT_SHA}") == []


@pytest.mark.parametrize("token", [UUID_HIGH_ENTROPY, UUID_HIGH_ENTROPY.upper(), URL_PATH])
def test_identifiers_reaching_the_threshold_are_still_not_secrets(token: str) -> None:
    assert shannon_entropy(token) >= 4.0  # so it is the UUID / lower-case path rule that spares them
    assert find_pii(f"see {token}") == []


@pytest.mark.parametrize(("token", "bits"), [("", 0.0), ("aaaa", 0.0), ("abab", 1.0), ("abcd", 2.0)])
def test_shannon_entropy(token: str, bits: float) -> None:
    assert shannon_entropy(token) == pytest.approx(bits)


# --- overlaps ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "region"),
    [("0612345678 009", "FR"), ("2025550143 007", "US"), ("0301234567008", "DE")],
)
def test_card_wins_over_overlapping_phone(text: str, region: str) -> None:
    matcher = phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID)
    assert [m.start for m in matcher] == [0]  # phonenumbers alone does see a phone number here
    assert find_pii(text) == [Finding(PiiType.CARD, 0, len(text))]


def test_phone_matches_from_several_regions_merge_into_one_finding() -> None:
    text = "ring 06 12 34 56 78 later"  # valid national number for both DE and FR
    assert detected(text) == [(PiiType.PHONE, "06 12 34 56 78")]


def test_email_wins_over_high_entropy_local_part() -> None:
    text = "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z@example.com"
    assert find_pii(text) == [Finding(PiiType.EMAIL, 0, len(text))]


def test_multiple_findings_in_order() -> None:
    text = (
        f"alice@example.com paid with 4111 1111 1111 1111 from DE89 3704 0044 0532 0130 00, "
        f"call +49 30 1234567, key {AWS_KEY_ID}; bob@example.org"
    )
    assert detected(text) == [
        (PiiType.EMAIL, "alice@example.com"),
        (PiiType.CARD, "4111 1111 1111 1111"),
        (PiiType.IBAN, "DE89 3704 0044 0532 0130 00"),
        (PiiType.PHONE, "+49 30 1234567"),
        (PiiType.SECRET, AWS_KEY_ID),
        (PiiType.EMAIL, "bob@example.org"),
    ]


# --- scrub_text -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mail alice@example.com or call +49 30 1234567.", "Mail [REDACTED:EMAIL] or call [REDACTED:PHONE]."),
        (
            "Card: 4111-1111-1111-1111, IBAN: DE89 3704 0044 0532 0130 00",
            "Card: [REDACTED:CARD], IBAN: [REDACTED:IBAN]",
        ),
        (f"Authorization: Bearer {BEARER_TOKEN}", "Authorization: Bearer [REDACTED:SECRET]"),
        (f"{PEM}\nbye", "[REDACTED:SECRET]\nbye"),
        ("nothing here on 2026-01-15, order 12345", "nothing here on 2026-01-15, order 12345"),
        ("", ""),
    ],
)
def test_scrub_text_output(text: str, expected: str) -> None:
    assert scrub_text(text).text == expected


def test_scrub_text_findings_index_the_original_text() -> None:
    text = "a alice@example.com b +49 30 1234567"
    result = scrub_text(text)
    assert result == ScrubResult(
        text="a [REDACTED:EMAIL] b [REDACTED:PHONE]",
        findings=(Finding(PiiType.EMAIL, 2, 19), Finding(PiiType.PHONE, 22, 36)),
    )
    assert [text[f.start : f.end] for f in result.findings] == ["alice@example.com", "+49 30 1234567"]


# --- scrub_value ------------------------------------------------------------------------------------------


def test_scrub_value_walks_nested_structures() -> None:
    value = {
        "user": {"email": "alice@example.com", "age": 42},
        "notes": ["ok", ("card 4111111111111111", None)],
        "alice@example.com": True,  # keys are left alone
        "score": 1.5,
    }
    original = copy.deepcopy(value)
    scrubbed, types = scrub_value(value)
    assert scrubbed == {
        "user": {"email": "[REDACTED:EMAIL]", "age": 42},
        "notes": ["ok", ("card [REDACTED:CARD]", None)],
        "alice@example.com": True,
        "score": 1.5,
    }
    assert types == [PiiType.EMAIL, PiiType.CARD]
    assert value == original  # the input is not mutated
    assert isinstance(scrubbed, dict)
    assert isinstance(scrubbed["notes"][1], tuple)


def test_scrub_value_reports_repeated_types() -> None:
    scrubbed, types = scrub_value(["a@example.com", "b@example.org and c@example.net"])
    assert scrubbed == ["[REDACTED:EMAIL]", "[REDACTED:EMAIL] and [REDACTED:EMAIL]"]
    assert types == [PiiType.EMAIL, PiiType.EMAIL, PiiType.EMAIL]


def test_scrub_value_returns_new_containers() -> None:
    inner = ["clean"]
    value = {"list": inner}
    scrubbed, types = scrub_value(value)
    assert scrubbed == value
    assert scrubbed is not value
    assert isinstance(scrubbed, dict)
    assert scrubbed["list"] is not inner
    assert types == []


@pytest.mark.parametrize("value", [42, 1.5, None, True, b"alice@example.com", "no pii here"])
def test_scrub_value_leaves_other_values_unchanged(value: object) -> None:
    scrubbed, types = scrub_value(value)
    assert scrubbed is value
    assert types == []


def test_scrub_value_scrubs_a_bare_string() -> None:
    assert scrub_value("mail alice@example.com") == ("mail [REDACTED:EMAIL]", [PiiType.EMAIL])


def test_scrub_value_keeps_clean_str_subclasses() -> None:
    class Color(StrEnum):
        RED = "red"

    scrubbed, _ = scrub_value([Color.RED])
    assert isinstance(scrubbed, list)
    assert scrubbed[0] is Color.RED

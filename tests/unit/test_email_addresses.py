"""Email addresses: one canonical form; lookalikes of another address refused with a stable reason."""
from __future__ import annotations

import pytest

from studio.identity import errors as identity_errors
from studio.identity.emails import email_key, normalise
from studio.kernel import errors

LOOKALIKES = [  # (address, reason): each renders like, or folds to, "ada@example.com"
    ("\u0430da@example.com", "mixed_script"),      # Cyrillic а
    ("ada@ex\u0430mple.com", "mixed_script"),      # ... in the domain
    ("\uff41\uff44\uff41@example.com", "compatibility"),  # fullwidth ａｄａ
    ("ada@\uff45xample.com", "compatibility"),
    ("a\u200bda@example.com", "invisible"),        # zero-width space
    ("ad\u200da@example.com", "invisible"),        # zero-width joiner
    ("\u202eada@example.com", "invisible"),        # right-to-left override
    ("ada\u00ad@example.com", "invisible"),        # soft hyphen
    ("a\u3164da@example.com", "invisible"),        # Hangul filler (a letter that draws nothing)
    ("a\u0301da@example.com", "combining"),        # a + combining acute
    ("ad\u0323a@example.com", "combining"),        # d + combining dot below
    ("\u0456da@example.com", "mixed_script"),      # Cyrillic і
    ("\u0430\u0440\u0435@example.com", "confusable"),  # all-Cyrillic "аре" reads "ape"
    ("\u0130da@example.com", "combining"),         # İ lower-cases to i + U+0307
]


@pytest.mark.parametrize(("address", "reason"), LOOKALIKES)
def test_lookalikes_are_refused_with_a_stable_reason(address: str, reason: str) -> None:
    with pytest.raises(errors.StudioError) as caught:
        normalise(address)
    assert caught.value.code is identity_errors.EMAIL_UNSAFE
    assert caught.value.extra["reason"] == reason
    assert caught.value.errors[0]["field"] == "body.email"


@pytest.mark.parametrize(("given", "kept"), [
    ("ada@example.com", "ada@example.com"),
    ("  Ada@Example.COM ", "ada@example.com"),
    ("jos\u00e9@example.com", "jos\u00e9@example.com"),  # a precomposed letter is a letter
    ("m\u00fcller@b\u00fccher.de", "m\u00fcller@b\u00fccher.de"),
    ("\u0430\u0434\u0430@example.com", "\u0430\u0434\u0430@example.com"),  # one script per part: Cyrillic "ада"
    ("\u03b1\u03b2\u03b3@example.com", "\u03b1\u03b2\u03b3@example.com"),
])
def test_genuine_addresses_are_kept_lower_cased(given: str, kept: str) -> None:
    assert normalise(given) == kept


def test_the_account_key_folds_case_fully() -> None:
    assert email_key(normalise("Ada@Example.com")) == email_key("ada@example.com")
    assert email_key(normalise("stra\u00dfe@x.de")) == email_key(normalise("STRASSE@x.de"))

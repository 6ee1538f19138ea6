"""Entity tables: per type, valid identifiers (found, typed, exact span) and near misses (one check digit
wrong: not found), scored as precision and recall per type and printed; then the policy applied to a
value (allow, redact, block) as the pure function under every caller."""
from __future__ import annotations

import importlib

import pytest

from studio.kernel.errors import StudioError
from studio.privacy.entities import PiiType
from studio.privacy.pii import find_pii
from studio.privacy.policies import Action, Policy
from studio.privacy.policy_filter import apply_policy
from studio.privacy.scanning import HyperscanEngine, ReEngine

# (type, text, identifier): the identifier as it appears in the text. Weak ids follow their naming word.
VALID: list[tuple[PiiType, str, str]] = [
    (PiiType.DE_IDNR, "Steuer-ID: 36 574 261 809", "36 574 261 809"),
    (PiiType.DE_IDNR, "meine IdNr 68347449012.", "68347449012"),
    (PiiType.DE_IDNR, "Steueridentifikationsnummer 10930254606", "10930254606"),
    (PiiType.FR_NIR, "NIR 2 95 10 99 126 111 93", "2 95 10 99 126 111 93"),
    (PiiType.FR_NIR, "sécu: 281029481738951", "281029481738951"),
    (PiiType.FR_NIR, "n° 253072B07300470 (Corse)", "253072B07300470"),
    (PiiType.NL_BSN, "mijn BSN is 796561539", "796561539"),
    (PiiType.NL_BSN, "burgerservicenummer: 1112.22.333", "1112.22.333"),
    (PiiType.NL_BSN, "BSN 122816031.", "122816031"),
    (PiiType.BE_NN, "rijksregisternummer 85.07.30-033.28", "85.07.30-033.28"),
    (PiiType.BE_NN, "NN 72021117254", "72021117254"),
    (PiiType.BE_NN, "numéro national 93020939442", "93020939442"),
    (PiiType.AT_SVNR, "SVNR 1237 010180", "1237 010180"),
    (PiiType.AT_SVNR, "Sozialversicherungsnummer: 8331170983", "8331170983"),
    (PiiType.AT_SVNR, "e-card 3253160962", "3253160962"),
    (PiiType.ES_DNI, "DNI 54362315-K", "54362315-K"),
    (PiiType.ES_DNI, "dni: 64706437P", "64706437P"),
    (PiiType.ES_DNI, "NIE X2482300W", "X2482300W"),
    (PiiType.ES_DNI, "nie z-5266797-d", "z-5266797-d"),
    (PiiType.IT_CF, "CF RSSMRA85T10A562S", "RSSMRA85T10A562S"),
    (PiiType.IT_CF, "codice fiscale: bncgvn70a01h501h", "bncgvn70a01h501h"),
    (PiiType.IT_CF, "VRDLCU92E45F205M.", "VRDLCU92E45F205M"),
    (PiiType.PL_PESEL, "PESEL 44051401359", "44051401359"),
    (PiiType.PL_PESEL, "nr PESEL: 80120733985", "80120733985"),
    (PiiType.PL_PESEL, "pesel 79021549201", "79021549201"),
    (PiiType.EMAIL, "mail ada@example.com", "ada@example.com"),
    (PiiType.PHONE, "call +49 30 1234567", "+49 30 1234567"),
    (PiiType.CARD, "card 4111 1111 1111 1111", "4111 1111 1111 1111"),
    (PiiType.IBAN, "iban DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00"),
    (PiiType.IP_ADDRESS, "from 192.168.10.42", "192.168.10.42"),
    (PiiType.SECRET, "key " + "AKIA" + "IOSFODNN7EXAMPLE", "AKIA" + "IOSFODNN7EXAMPLE"),
]

_VALIDATOR = {
    PiiType.DE_IDNR: "stdnum.de.idnr", PiiType.FR_NIR: "stdnum.fr.nir", PiiType.NL_BSN: "stdnum.nl.bsn",
    PiiType.BE_NN: "stdnum.be.nn", PiiType.AT_SVNR: "stdnum.at.vnr", PiiType.IT_CF: "stdnum.it.codicefiscale",
    PiiType.PL_PESEL: "stdnum.pl.pesel", PiiType.CARD: "stdnum.luhn", PiiType.IBAN: "stdnum.iban",
}
# The position of the check character in the identifier as written (AT SVNR: the 4th digit).
_CHECK_AT = {PiiType.AT_SVNR: 3, PiiType.FR_NIR: -1}


def _wrong_check(kind: PiiType, ident: str) -> str:
    """The identifier with its check character changed so that python-stdnum refuses it."""
    at = _CHECK_AT.get(kind, -1)
    pos = at if at >= 0 else len(ident) + at
    alphabet = "ABCDEFGHJKLMNPQRSTVWXYZ" if ident[pos].isalpha() else "0123456789"
    for replacement in alphabet:
        candidate = ident[:pos] + replacement + ident[pos + 1:]
        if replacement.lower() != ident[pos].lower() and not _valid(kind, candidate):
            return candidate
    raise AssertionError(f"no invalid variant of {ident}")


def _valid(kind: PiiType, ident: str) -> bool:
    compact = "".join(ch for ch in ident if ch.isalnum())
    if kind is PiiType.ES_DNI:
        return bool(importlib.import_module("stdnum.es.dni").is_valid(compact)
                    or importlib.import_module("stdnum.es.nie").is_valid(compact))
    return bool(importlib.import_module(_VALIDATOR[kind]).is_valid(compact))


_CHECKED = {*_VALIDATOR, PiiType.ES_DNI}
NEAR_MISSES: list[tuple[PiiType, str]] = [
    (kind, text.replace(ident, _wrong_check(kind, ident))) for kind, text, ident in VALID if kind in _CHECKED
]
# Weak ids without their naming word are not reported, even when the check digit is right.
UNNAMED: list[tuple[PiiType, str]] = [
    (PiiType.NL_BSN, "order 796561539 shipped"), (PiiType.PL_PESEL, "ref 44051401359"),
    (PiiType.DE_IDNR, "id 68347449012"), (PiiType.AT_SVNR, "ticket 1237 010180"),
]


@pytest.mark.parametrize(("kind", "text", "ident"), VALID)
def test_valid_identifier_is_found_with_its_exact_span(kind: PiiType, text: str, ident: str) -> None:
    assert kind not in _CHECKED or _valid(kind, ident)  # the table itself is right
    found = [(f.type, text[f.start:f.end]) for f in find_pii(text)]
    assert found == [(kind, ident)]


@pytest.mark.parametrize(("kind", "text"), NEAR_MISSES + UNNAMED)
def test_near_miss_is_not_reported_as_that_type(kind: PiiType, text: str) -> None:
    assert kind not in {f.type for f in find_pii(text)}


@pytest.mark.parametrize("engine", [HyperscanEngine(), ReEngine()], ids=lambda e: e.name)
def test_both_engines_find_the_same(engine: HyperscanEngine | ReEngine) -> None:
    for _, text, _ in VALID:
        assert find_pii(text, engine) == find_pii(text, ReEngine())
    for _, text in NEAR_MISSES + UNNAMED:
        assert find_pii(text, engine) == find_pii(text, ReEngine())


def test_precision_and_recall_per_type(capsys: pytest.CaptureFixture[str]) -> None:
    """Scored over the tables above: a finding of the right type on a valid id is a true positive; any
    finding of that type on a near miss a false positive; a valid id not found a false negative."""
    rows = []
    for kind in PiiType:
        tp = sum(1 for k, text, ident in VALID if k is kind
                 and [(f.type, text[f.start:f.end]) for f in find_pii(text)] == [(kind, ident)])
        fn = sum(1 for k, _, _ in VALID if k is kind) - tp
        fp = sum(1 for k, text in NEAR_MISSES + UNNAMED if k is kind and kind in {f.type for f in find_pii(text)})
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        rows.append((kind, tp, fp, fn, precision, recall))
    with capsys.disabled():
        print("\nentity        valid  near-miss  TP  FP  FN  precision  recall")
        for kind, tp, fp, fn, precision, recall in rows:
            misses = sum(1 for k, _ in NEAR_MISSES + UNNAMED if k is kind)
            print(f"{kind:<13} {tp + fn:>5}  {misses:>9}  {tp:>2}  {fp:>2}  {fn:>2}  {precision:>9.2f}  {recall:>6.2f}")
    assert all(precision == 1.0 and recall == 1.0 for _, _, _, _, precision, recall in rows)


# --- the policy applied to a value ---------------------------------------------------------------------

POLICY = Policy({PiiType.EMAIL: Action.REDACT, PiiType.CARD: Action.BLOCK, PiiType.IT_CF: Action.BLOCK}, 3, None)


def test_apply_redacts_walks_nested_values_and_leaves_keys_and_allowed_types() -> None:
    value = {"to": "ada@example.com", "notes": ["call +49 30 1234567", ("ok", 3)], "ada@example.com": 1.5}
    assert apply_policy(POLICY, value, where="tool input") == {
        "to": "[REDACTED:EMAIL]", "notes": ["call +49 30 1234567", ("ok", 3)], "ada@example.com": 1.5}


def test_apply_blocks_naming_every_blocked_type_and_never_the_text() -> None:
    with pytest.raises(StudioError) as refused:
        apply_policy(POLICY, ["card 4111 1111 1111 1111", {"cf": "RSSMRA85T10A562S", "m": "a@example.com"}],
                     where="tool output")
    assert refused.value.code.code == "POLICY_BLOCKED" and refused.value.status == 422
    assert refused.value.extra == {"entities": ["CARD", "IT_CF"], "where": "tool output"}
    assert "4111" not in str(refused.value) and "RSSMRA" not in str(refused.value)


def test_the_default_policy_allows_everything() -> None:
    text = "ada@example.com 4111 1111 1111 1111"
    assert apply_policy(Policy({}, 0, None), text, where="chat message") is text


def test_chat_corpus_with_planted_ids_both_engines(capsys: pytest.CaptureFixture[str]) -> None:
    """The bench's corpus, small: every planted identifier found with its type and span, nothing else
    (its noise is dates, prices, versions, hashes, URLs), and the same findings from both engines."""
    from bench.policy_corpus import build

    corpus = build(200_000)
    found = {(str(f.type), f.start, f.end) for f in find_pii(corpus.text)}
    assert found == {(str(f.type), f.start, f.end) for f in find_pii(corpus.text, ReEngine())}
    planted = set(corpus.planted)
    precision, recall = len(found & planted) / len(found), len(found & planted) / len(planted)
    with capsys.disabled():
        print(f"\nchat corpus: {len(corpus.text):,} chars, {len(planted)} planted, precision {precision:.3f}, "
              f"recall {recall:.3f}")
    assert {kind for kind, _, _ in planted} == {str(t) for t in PiiType}
    assert precision == 1.0 and recall == 1.0

"""Assignment agrees with the ``growthbook`` package (the reference SDK) on many generated inputs.

Hash v1/v2, bucket ranges, namespaces, coverage, weights, conditions and the whole algorithm are
compared with the package's own functions and its ``GrowthBook.run``, on ids drawn from ASCII,
Latin, CJK, emoji (astral planes: two UTF-16 code units), combining marks and numbers.
"""
from __future__ import annotations

import random
from typing import Any

import pytest
from growthbook import Experiment as GbExperiment
from growthbook import GrowthBook, core

from studio.experiments import assignment, conditions, hashing

ALPHABETS = [
    "abcdefghijklmnopqrstuvwxyz0123456789-_",
    "àéîõüßçñÅØÆœ",
    "中文日本語한국어",
    "😀🎉🚀👩‍💻🏳️‍🌈",
    "e\u0301a\u0308\u200d\u00a0",
    "\U00010348\U0001f600\uffff\u0000",
]


def random_id(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.08:
        return rng.choice([rng.randint(-10**6, 10**6), rng.uniform(-1e6, 1e6), 10**22, 1.5e-7, 0, True, "", None])
    chars = "".join(rng.choice(ALPHABETS) for _ in range(3))
    return "".join(rng.choice(chars) for _ in range(rng.randint(1, 24)))


def random_weights(rng: random.Random, n: int) -> list[float] | None:
    if rng.random() < 0.2:
        return None
    raw = [rng.random() for _ in range(n)]
    total = sum(raw)
    weights = [w / total for w in raw]
    if rng.random() < 0.05:
        weights[0] += 0.5  # invalid: both fall back to equal weights
    return weights


CONDITIONS: list[dict[str, Any]] = [
    {"country": {"$in": ["DE", "FR", "NL"]}},
    {"age": {"$gte": 18, "$lt": 65}},
    {"$or": [{"plan": "pro"}, {"beta": True}]},
    {"browser": {"$regex": "^(chrome|firefox)"}},
    {"version": {"$vgte": "2.3.0"}},
    {"tags": {"$elemMatch": {"$eq": "vip"}}},
    {"$not": {"country": "US"}},
    {"email": {"$exists": True}},
]


def random_attributes(rng: random.Random) -> dict[str, Any]:
    attrs: dict[str, Any] = {"id": random_id(rng), "anon": random_id(rng)}
    if rng.random() < 0.7:
        attrs["country"] = rng.choice(["DE", "FR", "US", "NL", "JP"])
    if rng.random() < 0.7:
        attrs["age"] = rng.randint(0, 99)
    if rng.random() < 0.5:
        attrs["plan"] = rng.choice(["free", "pro"])
        attrs["beta"] = rng.random() < 0.3
    if rng.random() < 0.5:
        attrs["browser"] = rng.choice(["chrome 120", "firefox", "safari", "Chrome"])
    if rng.random() < 0.5:
        attrs["version"] = rng.choice(["2.2.9", "2.3.0", "2.10.1", "1.0.0-beta"])
    if rng.random() < 0.3:
        attrs["tags"] = rng.sample(["vip", "new", "churned"], rng.randint(0, 3))
    if rng.random() < 0.3:
        attrs["email"] = "x@example.com"
    return attrs


def test_hashes_match_on_generated_ids() -> None:
    rng = random.Random(1301)
    for _ in range(20_000):
        seed, value = str(random_id(rng)), str(random_id(rng))
        assert hashing.fnv1a32(seed + value) == core.fnv1a32(seed + value)
        for version in (1, 2):
            assert hashing.bucket(seed, value, version) == core.gbhash(seed, value, version), (seed, value)


def test_hash_strings_of_attribute_values_match() -> None:
    rng = random.Random(1302)
    values: list[Any] = [random_id(rng) for _ in range(5_000)]
    values += [rng.uniform(-1e25, 1e25) for _ in range(2_000)] + [rng.uniform(-1e-5, 1e-5) for _ in range(2_000)]
    values += [10**21, 10**21 - 1, 1e21, 123456789012345680000, 0.1 + 0.2, -0.0, float("inf"), float("nan"), 2**64]
    for v in values:
        assert hashing.is_hashable(v) == core._is_hashable(v), v
        expected = core._hash_string(v) if core._is_hashable(v) else ""
        assert hashing.hash_string(v) == expected, v


def test_bucket_ranges_and_choice_match() -> None:
    rng = random.Random(1303)
    for _ in range(5_000):
        n = rng.randint(1, 6)
        weights = random_weights(rng, n)
        coverage = rng.choice([1.0, 0.0, rng.random(), 1.5, -0.2])
        mine = hashing.bucket_ranges(n, coverage, weights)
        theirs = core.getBucketRanges(n, coverage, weights)
        assert mine == theirs  # exactly: the same float operations in the same order
        for _ in range(5):
            x = rng.random()
            assert hashing.choose_variation(x, mine) == core.chooseVariation(x, theirs)


def test_namespaces_match() -> None:
    rng = random.Random(1304)
    for _ in range(10_000):
        value = str(random_id(rng))
        start = rng.random()
        end = min(1.0, start + rng.random())
        ns = rng.choice(["checkout", "pricing", "日本", "🚀"])
        assert hashing.in_namespace(value, ns, start, end) == core.inNamespace(value, (ns, start, end))


def test_whole_assignment_matches_growthbook_run() -> None:
    """The full algorithm against ``GrowthBook.run``: in or out, and which variation."""
    rng = random.Random(1305)
    compared = in_count = 0
    for i in range(6_000):
        n = rng.randint(1, 4)
        key = f"exp-{i % 37}-{rng.choice(['a', 'ü', '試'])}"
        weights = random_weights(rng, n)
        coverage = rng.choice([1.0, rng.random()])
        hash_attribute = rng.choice(["id", "id", "anon"])
        namespace = None
        if rng.random() < 0.3:
            start = rng.random() * 0.5
            namespace = (rng.choice(["ns1", "ns2"]), start, start + 0.5)
        condition = rng.choice([None, None, *CONDITIONS])
        seed = rng.choice(["", "", "custom-seed", "種"])
        hash_version = rng.choice([2, 2, 2, 1])
        defn = assignment.Definition(
            key=key, variation_keys=[f"v{j}" for j in range(n)], weights=weights, coverage=coverage,
            hash_attribute=hash_attribute, hash_version=hash_version, seed=seed,
            namespace=assignment.Namespace(*namespace) if namespace else None, condition=condition)
        gb_exp = GbExperiment(key=key, variations=list(range(n)), weights=weights, coverage=coverage,
                              hashAttribute=hash_attribute, hashVersion=hash_version, seed=seed or None,
                              namespace=namespace, condition=condition)
        for _ in range(4):
            attrs = random_attributes(rng)
            mine = assignment.assign(defn, attrs)
            theirs = GrowthBook(attributes=attrs).run(gb_exp)
            assert mine.in_experiment == theirs.inExperiment, (defn, attrs, mine)
            if theirs.inExperiment:
                assert mine.variation == theirs.variationId, (defn, attrs)
                in_count += 1
            compared += 1
    assert compared == 24_000 and in_count > 5_000  # the comparison exercised both outcomes


def test_condition_check_refuses_what_could_be_expensive() -> None:
    from studio.kernel.errors import StudioError

    conditions.check({"a": {"$regex": "^[a-z]+$"}})
    for bad in ({"a": {"$regex": "(a+)+$"}}, {"a": {"$regex": "x" * 300}}, {"a": {"$regex": "("}},
                {"a": {"$regex": 5}}, _deep(20)):
        with pytest.raises(StudioError) as caught:
            conditions.check(bad)
        assert caught.value.code.code == "CONDITION_INVALID"


def _deep(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"x": 1}
    for _ in range(depth):
        node = {"$and": [node]}
    return node

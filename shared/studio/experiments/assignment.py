"""Who gets which variation: GrowthBook's experiment algorithm over a stored definition, pure.

The steps and their order are GrowthBook's (``run_experiment`` in its SDKs), so an experiment
defined here assigns every subject the variation a GrowthBook SDK would give it: fewer than two
variations or not running -> not in; no hashable attribute -> not in; then, unless the subject
already holds a sticky assignment, the namespace and the targeting condition; then the hash, the
bucket ranges (weights x coverage) and the variation whose range holds the bucket. A sticky
assignment skips the namespace, condition, weights and coverage: whoever was bucketed stays put.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from studio.experiments import conditions, hashing


@dataclass(frozen=True)
class Namespace:
    id: str
    start: float
    end: float


@dataclass(frozen=True)
class Definition:
    """What assignment needs of an experiment (``definitions.from_doc`` builds it from the store)."""

    key: str
    variation_keys: Sequence[str]
    weights: Sequence[float] | None = None
    coverage: float = 1.0
    hash_attribute: str = "id"
    hash_version: int = 2
    seed: str = ""
    namespace: Namespace | None = None
    condition: Mapping[str, Any] | None = None
    running: bool = True
    ranges: Sequence[hashing.Range] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:  # computed once per definition, not per subject
        object.__setattr__(self, "ranges",
                           hashing.bucket_ranges(len(self.variation_keys), self.coverage, self.weights))


@dataclass(frozen=True)
class Assignment:
    in_experiment: bool
    variation: int  # -1 when not in the experiment
    hash_attribute: str
    hash_value: str  # "" when the subject has no usable value
    bucket: float | None = None
    sticky: bool = False
    why: str = ""  # when not in: not_running, no_hash_value, namespace, condition, coverage ...


def _out(defn: Definition, hash_value: str, why: str, bucket: float | None = None) -> Assignment:
    return Assignment(False, -1, defn.hash_attribute, hash_value, bucket, False, why)


def assign(defn: Definition, attributes: Mapping[str, Any], sticky_variation: int | None = None) -> Assignment:
    """The subject's variation, or why it is not in the experiment.

    ``sticky_variation``: the variation stored for this subject earlier (None: none stored)."""
    n_variations = len(defn.variation_keys)
    if n_variations < 2:
        return _out(defn, "", "too_few_variations")
    if not defn.running:
        return _out(defn, "", "not_running")
    hash_value = hashing.hash_string(attributes.get(defn.hash_attribute))
    if not hash_value:
        return _out(defn, "", "no_hash_value")
    sticky = sticky_variation is not None and 0 <= sticky_variation < n_variations
    if not sticky:
        ns = defn.namespace
        if ns is not None and not hashing.in_namespace(hash_value, ns.id, ns.start, ns.end):
            return _out(defn, hash_value, "namespace")
        if defn.condition and not conditions.matches(attributes, defn.condition):
            return _out(defn, hash_value, "condition")
    n = hashing.bucket(defn.seed or defn.key, hash_value, defn.hash_version)
    if n is None:
        return _out(defn, hash_value, "hash_version")
    if sticky:
        assert sticky_variation is not None
        return Assignment(True, sticky_variation, defn.hash_attribute, hash_value, n, True)
    variation = hashing.choose_variation(n, defn.ranges)
    if variation < 0:
        return _out(defn, hash_value, "coverage", n)
    return Assignment(True, variation, defn.hash_attribute, hash_value, n, False)

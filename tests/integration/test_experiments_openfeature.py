"""The Python OpenFeature SDK with its OFREP provider, unchanged, evaluates flags against the local
runtime over real HTTP, and gets the variation the growthbook package computes in process."""
from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from growthbook import Experiment as GbExperiment
from growthbook import GrowthBook
from openfeature import api
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason

from tests.support.experiments import flag_for, sdk_key, start_experiment
from tests.support.platform import RunningPlatform


@pytest.fixture()
def of_client(platform: RunningPlatform, client: httpx.Client, owner, tenant: str) -> Iterator[object]:
    key = sdk_key(client, owner, tenant)
    api.set_provider(OFREPProvider(platform.base_url, headers_factory=lambda: {"Authorization": f"Bearer {key}"}),
                     domain=tenant)
    yield api.get_client(domain=tenant)
    api.clear_providers()


def test_sdk_evaluates_experiment_flags_like_growthbook(client: httpx.Client, owner, tenant: str, of_client) -> None:
    variations = [{"key": "small", "value": 8, "weight": 0.2}, {"key": "medium", "value": 12, "weight": 0.3},
                  {"key": "large", "value": 16, "weight": 0.5}]
    condition = {"country": {"$in": ["DE", "FR"]}}
    exp = start_experiment(client, owner, tenant, "font-size", variations=variations, coverage=0.8,
                           condition=condition)
    flag_for(client, owner, tenant, "font-size", exp["id"], default=10)
    reference = GbExperiment(key="font-size", variations=[8, 12, 16], weights=[0.2, 0.3, 0.5], coverage=0.8,
                             condition=condition, hashVersion=2)
    seen = set()
    for i in range(150):
        subject = f"visitor-{i}-ünï-{'🙂' * (i % 3)}"
        country = ["DE", "FR", "US"][i % 3]
        details = of_client.get_integer_details(  # type: ignore[attr-defined]
            "font-size", 0, EvaluationContext(targeting_key=subject, attributes={"country": country}))
        expected = GrowthBook(attributes={"id": subject, "country": country}).run(reference)
        assert details.error_code is None, details.error_message
        if expected.inExperiment:
            assert (details.value, details.reason, details.variant) == (expected.value, Reason.SPLIT,
                                                                       variations[expected.variationId]["key"])
        else:
            assert (details.value, details.reason) == (10, Reason.DEFAULT)
        seen.add(details.reason)
    assert seen == {Reason.SPLIT, Reason.DEFAULT}


def test_sdk_sees_force_rules_and_errors(client: httpx.Client, owner, tenant: str, of_client) -> None:
    h = owner.in_tenant(tenant)
    assert client.post("/flags", json={"key": "beta-banner", "default_value": "off",
                                       "rules": [{"condition": {"beta": True}, "value": "on"}]}, headers=h).is_success
    assert client.patch("/flags/beta-banner", json={"status": "running", "base_rev": 1}, headers=h).is_success
    on = of_client.get_string_details("beta-banner", "x",  # type: ignore[attr-defined]
                                      EvaluationContext(targeting_key="u1", attributes={"beta": True}))
    assert (on.value, on.reason, on.variant) == ("on", Reason.TARGETING_MATCH, "rule-0")
    off = of_client.get_string_details("beta-banner", "x", EvaluationContext(targeting_key="u2"))  # type: ignore[attr-defined]
    assert (off.value, off.reason) == ("off", Reason.DEFAULT)
    missing = of_client.get_boolean_details("no-such-flag", True, EvaluationContext(targeting_key="u"))  # type: ignore[attr-defined]
    assert missing.value is True and missing.error_code == ErrorCode.FLAG_NOT_FOUND
    mistyped = of_client.get_boolean_details("beta-banner", False, EvaluationContext(targeting_key="u"))  # type: ignore[attr-defined]
    assert mistyped.value is False and mistyped.error_code == ErrorCode.TYPE_MISMATCH

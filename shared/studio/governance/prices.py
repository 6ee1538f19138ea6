"""The price table: US dollars per 1,000 input and output tokens, per provider and model.

Local models (llama.cpp, the echo responder) cost nothing but still count tokens. An unknown model
of a hosted provider is priced at its provider's most expensive listed model, so a budget errs
towards refusing rather than letting an unpriced call through (decision 0038).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Price:
    input_per_1k: float
    output_per_1k: float

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input_per_1k + output_tokens * self.output_per_1k) / 1000.0


FREE = Price(0.0, 0.0)
PRICES: dict[tuple[str, str], Price] = {
    ("openai-compatible", "gpt-4o-mini"): Price(0.00015, 0.0006),
    ("openai-compatible", "gpt-4o"): Price(0.0025, 0.01),
    ("openai-compatible", "gpt-4.1-mini"): Price(0.0004, 0.0016),
    ("gemini", "gemini-1.5-flash"): Price(0.000075, 0.0003),
    ("gemini", "gemini-2.0-flash"): Price(0.0001, 0.0004),
    ("gemini", "gemini-1.5-pro"): Price(0.00125, 0.005),
}
LOCAL_PROVIDERS = frozenset({"local", "echo"})


def price_of(provider: str | None, model: str | None) -> Price:
    if provider is None or provider in LOCAL_PROVIDERS:
        return FREE
    exact = PRICES.get((provider, model or ""))
    if exact is not None:
        return exact
    listed = [p for (prov, _), p in PRICES.items() if prov == provider]
    if not listed:
        listed = list(PRICES.values())
    return max(listed, key=lambda p: p.input_per_1k + p.output_per_1k)


def estimate_usd(provider: str | None, model: str | None, input_tokens: int, max_output_tokens: int) -> float:
    """What a model call may cost at most: its prompt plus the longest reply it may write."""
    return price_of(provider, model).cost(input_tokens, max_output_tokens)


def table() -> list[dict[str, object]]:
    return [{"provider": prov, "model": model, "input_per_1k_usd": p.input_per_1k, "output_per_1k_usd": p.output_per_1k}
            for (prov, model), p in sorted(PRICES.items())]

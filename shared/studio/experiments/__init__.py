"""Experiments and feature flags (D13): GrowthBook-compatible assignment, sticky buckets, exposures,
OFREP evaluation and results."""

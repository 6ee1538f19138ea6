"""studio: the one library every Cloud Function of the platform vendors.

Layers (one import-linter contract, pyproject.toml; decision 0028): bootstrap and the domain
registry (``studio.domains``) > adapters > domains > kernel > ports > config. Adapters are chosen
only in ``studio.bootstrap``; a domain is one row of ``studio.domains`` (docs/adding-a-capability.md).
"""

"""studio: the one library every Cloud Function of the platform vendors.

Layers (checked by import-linter): functions -> domains (identity, events, privacy, ...)
-> kernel + ports. Adapters are chosen only in ``studio.bootstrap``.
"""

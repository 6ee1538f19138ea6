"""Provenance: the tenant's append-only, hash-chained ledger of what was made from what, by whom
(issue 10, F23), and C2PA manifests on the images the platform derives or exports."""

"""The API's published contracts that span domains: the realtime gateway's HTTP side in OpenAPI and
its frames in AsyncAPI, described for the thread channels the composition root registers (chat's).
Beside ``wiring``: it may read both chat's models and the gateway's constants, which never import
each other."""

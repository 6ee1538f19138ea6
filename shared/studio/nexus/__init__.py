"""Nexus: the knowledge base the agents read from (raw documents -> atoms -> cards -> search), with its
settings, runs, memory (session snippets, blackboards), the vector explorer and influence packs."""

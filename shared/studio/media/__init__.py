"""Media (CAPABILITIES F20, F21): uploads that process themselves, optimised variants, artifacts."""

"""Page quality audits: accessibility (axe-core), performance budgets, layout checks, the EAA pack."""

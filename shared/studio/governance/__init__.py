"""Governance of risky AI actions (CAPABILITIES G26, I30): firearms licences, kill switches, strategy
locks with three-wise review, temperature corridors and budgets, enforced through ``gates.ToolGates``."""

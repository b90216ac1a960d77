"""Policies shipped with fm-audit (YAML files read by audit.policy)."""

"""Wiring of the bias/crows_pairs suite; the logic is in `audit.bias.crows_pairs_suite`."""

from audit.bias.crows_pairs_suite import CrowsPairsSuite

__all__ = ["CrowsPairsSuite"]

"""Wiring of the bias/bbq suite; the logic is in `audit.bias.bbq_suite`."""

from audit.bias.bbq_suite import BBQSuite

__all__ = ["BBQSuite"]

"""Wiring of the bias/bbq_style suite; the logic is in `audit.bias.bbq_style_suite`."""

from audit.bias.bbq_style_suite import BBQStyleSuite

__all__ = ["BBQStyleSuite"]

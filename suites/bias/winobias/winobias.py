"""Wiring of the bias/winobias suite; the logic is in `audit.bias.winobias_suite`."""

from audit.bias.winobias_suite import WinoBiasSuite

__all__ = ["WinoBiasSuite"]

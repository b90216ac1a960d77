"""Wiring of the bias/stereoset suite; the logic is in `audit.bias.stereoset_suite`."""

from audit.bias.stereoset_suite import StereoSetSuite

__all__ = ["StereoSetSuite"]

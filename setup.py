"""Packaging: the wheel carries `suites/` and `dashboard/` inside the `audit` package.

In the checkout both folders sit at the top, beside `audit/`. The wheel installs them as
`audit/_bundled/suites/` and `audit/_bundled/dashboard/` (`audit.paths.bundle_root` finds
either place), so an installed fm-audit has its suites and its dashboard without putting a
top-level `suites` or `dashboard` package into site-packages, where it could clash with
another project's. Everything else about the package is declared in pyproject.toml.
"""

from setuptools import find_packages, setup

BUNDLED = {"audit._bundled.suites": "suites", "audit._bundled.dashboard": "dashboard"}

setup(packages=find_packages(include=["audit", "audit.*"]) + list(BUNDLED), package_dir=BUNDLED)

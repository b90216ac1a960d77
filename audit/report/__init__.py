"""Reports: the run folder format and everything that renders it."""

from audit.report.runfolder import SCHEMA_VERSION, RunFolder, list_runs

__all__ = ["SCHEMA_VERSION", "RunFolder", "list_runs"]

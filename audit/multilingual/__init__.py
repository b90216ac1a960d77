"""The multilingual family: parallel items, text measures, language fidelity, hub loaders,
and the two suites (`multilingual_suite`, `translation_suite`) wired in `suites/multilingual/`."""

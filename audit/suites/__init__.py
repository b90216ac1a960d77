"""The suites runtime: specs, discovery, and the base classes suites build on."""

"""The package version (read by setuptools and recorded in every result's provenance)."""

__version__ = "0.1.0"

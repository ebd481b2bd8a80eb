"""Primordia: a laboratory for digital evolution."""

__version__ = "0.1.0"

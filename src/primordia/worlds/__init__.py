"""Worlds: deterministic environments that organisms sense and act in, one subpackage each."""

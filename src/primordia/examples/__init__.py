"""Example programs shipped with Primordia (read them with importlib.resources)."""

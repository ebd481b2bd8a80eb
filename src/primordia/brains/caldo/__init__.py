"""Caldo: cells whose genes are triplet sequences run by a stack machine (seed 002)."""

"""The kernel every other part builds on: randomness, hashing, errors. Imports nothing of the project."""

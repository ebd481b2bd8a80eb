"""The soup of seed 002 (Caldo primigenio): cells on a grid running triplet genes, with a
chemistry of molecules and energy (docs/worlds/soup.md)."""

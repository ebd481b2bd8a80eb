"""Mycos bit networks (docs/brains/mycos.md): genomes, their binary phenotype, evaluation and
variation."""

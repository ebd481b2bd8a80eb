"""Mycos bit networks (seed 004): genomes, their binary phenotype, evaluation and variation."""

"""Selection machinery any substrate can use: tournaments and elites, speciation, novelty
search, NSGA-II. Functions over fitness arrays and plain callables (distance, descriptors):
they never look inside a genome."""

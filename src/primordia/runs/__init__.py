"""Running experiments: run directories, timelines, phylogeny, summaries."""

"""Island evolution over many machines: a coordinator that keeps the genome bank and hands
out deterministic island jobs, workers that run them, verification of what untrusted
workers send, and global NSGA-II selection between generations (docs/distributed.md)."""

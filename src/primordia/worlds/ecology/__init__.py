"""The ecology world of seed 000: a toroidal island with regrowing resources, hazards, an energy
economy and reproduction in place (docs/worlds/ecology.md)."""

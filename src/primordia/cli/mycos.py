"""``primordia mycos``: compile Mycos genomes to their binary phenotype."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="Mycos bit networks: compile genomes to .myc files.",
                  no_args_is_help=True)


@app.command(name="compile")
def compile_(
    genome: Path = typer.Argument(..., help="A genome JSON file."),
    output: Path = typer.Option(..., "-o", "--output",
                                help="Directory for chunk_NNN.myc and links.bin."),
    prune: bool = typer.Option(False, "--prune",
                               help="Leave out connections and links that can never fire."),
    no_caps: bool = typer.Option(False, "--no-caps",
                                 help="Accept genomes over evolution's size caps (64 chunks, "
                                      "256 connections and internal bits per chunk, 256 links)."),
) -> None:
    """Validate a genome and write one MycosChunk v1 file per chunk plus links.bin."""
    from primordia.brains.mycos.compiler import compile_genome, prune as prune_genome
    from primordia.brains.mycos.compiler import write_phenotype
    from primordia.brains.mycos.genome import DEFAULT_CAPS, NO_CAPS, load_genome

    caps = NO_CAPS if no_caps else DEFAULT_CAPS
    g = load_genome(genome, caps)
    kept = prune_genome(g) if prune else g
    paths = write_phenotype(compile_genome(g, caps, pruned=prune), output)
    dropped = g.n_connections - kept.n_connections + len(g.links) - len(kept.links)
    typer.echo(f"wrote {len(paths) - 1} chunk file(s) and links.bin to {output}: "
               f"{kept.n_connections} connections, {len(kept.links)} links"
               + (f" ({dropped} pruned)" if prune else ""))

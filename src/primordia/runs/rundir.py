"""A run directory: everything a finished (or interrupted) run leaves behind, written so that
a crash never leaves a half-written file (write to a temporary name, then rename)."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any, Iterable, Mapping

from primordia.core.errors import InputFileError


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step (readers see the old or the new file)."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class RunDirectory:
    """The files of one run: config.toml, metrics.csv, phylogeny.csv, summary.json, ..."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputFileError(f"{self.path}: cannot create the run directory ({exc})") from None
        if not self.path.is_dir():
            raise InputFileError(f"{self.path}: not a directory")

    def file(self, name: str) -> Path:
        return self.path / name

    def write_text(self, name: str, text: str) -> None:
        write_atomic(self.file(name), text.encode("utf-8"))

    def write_json(self, name: str, value: Any) -> None:
        self.write_text(name, json.dumps(value, indent=1, sort_keys=True) + "\n")

    def write_csv(self, name: str, header: Iterable[str], rows: Iterable[Iterable[Any]]) -> None:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(list(header))
        w.writerows(rows)
        self.write_text(name, buf.getvalue())

    def write_metrics(self, samples: list[Mapping[str, Any]]) -> None:
        if samples:
            header = list(samples[0])
            self.write_csv("metrics.csv", header, ([s[k] for k in header] for s in samples))

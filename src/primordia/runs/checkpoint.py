"""Checkpoint files: named numpy arrays plus a JSON document, in one .npz written atomically.
Loading never unpickles, and a damaged file is a one-line error."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from primordia.core.errors import InputFileError

from .rundir import write_atomic

META = "__meta__"


def save_checkpoint(path: Path, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    buf = io.BytesIO()
    payload = dict(arrays)
    payload[META] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez_compressed(buf, **payload)
    write_atomic(path, buf.getvalue())


def load_checkpoint(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        meta = json.loads(bytes(arrays.pop(META)).decode())
    except FileNotFoundError:
        raise InputFileError(f"{path}: no checkpoint here") from None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, UnicodeDecodeError,
            json.JSONDecodeError) as exc:
        raise InputFileError(f"{path}: not a readable checkpoint ({exc})") from None
    if not isinstance(meta, dict):
        raise InputFileError(f"{path}: not a readable checkpoint (bad metadata)")
    return arrays, meta

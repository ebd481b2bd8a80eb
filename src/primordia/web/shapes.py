"""The base of every reply model the server publishes (``web/replies.py``, and the organism,
cell and terrain models each world's adapter brings): a reply holds exactly its keys."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Reply(BaseModel):
    """A reply's object: exactly these keys."""

    model_config = ConfigDict(extra="forbid")

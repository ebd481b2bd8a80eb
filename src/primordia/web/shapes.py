"""The base of every reply model the server publishes (``web/replies.py``, and the organism,
cell and terrain models each world's adapter brings): a reply holds exactly its keys."""

from __future__ import annotations

from primordia.core.config import ClosedModel


class Reply(ClosedModel):
    """A reply's object: exactly these keys."""

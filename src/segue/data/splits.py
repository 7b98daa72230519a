"""Deterministic splits of any dataset by piece name (the bundled chorales have a fixed file)."""

from __future__ import annotations

import hashlib

from segue.data.chorales import base_name


def split_of(name: str, valid: float = 0.05, test: float = 0.10) -> str:
    """``"train"``, ``"valid"`` or ``"test"`` for a piece, from a hash of its base name."""
    digest = hashlib.sha1(base_name(name).encode("utf-8")).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    if position < test:
        return "test"
    return "valid" if position < test + valid else "train"

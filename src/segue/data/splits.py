"""Deterministic splits of any dataset by piece name, unless its build recorded them (the bundled
chorales have a fixed file)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from segue.data.chorales import base_name, load_chorales, split_indices
from segue.data.dataset import Dataset
from segue.music.piece import Piece


def split_of(name: str, valid: float = 0.05, test: float = 0.10) -> str:
    """``"train"``, ``"valid"`` or ``"test"`` for a piece, from a hash of its base name."""
    digest = hashlib.sha1(base_name(name).encode("utf-8")).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    if position < test:
        return "test"
    return "valid" if position < test + valid else "train"


def work_family(work: str) -> str:
    """A work's title without a trailing parenthesis, case-folded: the masses written on one model
    ("Missa Ave Maria (I)", "(II)") share it, and so share a split and a validation half."""
    return re.sub(r"\s*\([^)]*\)$", "", work).strip().casefold()


def piece_split(meta: dict[str, object]) -> str:
    """A dataset piece's split: the one its build recorded (``"split"`` in its metadata, as the
    bundled corpora do, which split by tune family), else :func:`split_of` its name."""
    recorded = meta.get("split")
    return recorded if recorded in ("train", "valid", "test") else split_of(str(meta["name"]))  # type: ignore[return-value]


def split_pieces(data: str | Path | None, split: str) -> list[Piece]:
    """The pieces of ``split`` in the dataset folder ``data`` (:func:`piece_split` of each), or in
    the bundled chorales (their fixed split) when ``data`` is None."""
    if data is None:
        chorales = load_chorales()
        return [chorales[i] for i in split_indices(chorales, split)]
    dataset = Dataset(data)
    return [dataset[i] for i, meta in enumerate(dataset.metas) if piece_split(meta) == split]

"""The bundled Bach chorales: four voices (S, A, T, B) from music21's corpus.

Built once by ``scripts/build_chorales.py`` into ``assets/chorales/``; the split of
pieces into train, valid and test is fixed in ``splits.json``, keyed by the music21
corpus name (``"bwv1.6"``). A piece split at a meter change (``"bwv1.6#2"``) belongs
with its base name. Test pieces are never used for training or model selection.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path

from segue.data.dataset import Dataset

SPLITS = ("train", "valid", "test")


def chorales_dir() -> Path:
    """The folder of the bundled chorales inside the installed package."""
    return Path(str(resources.files("segue") / "assets" / "chorales"))


def load_chorales() -> Dataset:
    """Open the bundled chorale dataset."""
    return Dataset(chorales_dir() / "dataset")


@cache
def load_splits() -> dict[str, tuple[str, ...]]:
    """The fixed split: ``{"train": names, "valid": names, "test": names}``."""
    raw = json.loads((chorales_dir() / "splits.json").read_text())
    return {split: tuple(raw[split]) for split in SPLITS}


def base_name(name: str) -> str:
    """The corpus name of a piece: ``"bwv1.6#2"`` -> ``"bwv1.6"``."""
    return name.split("#", 1)[0]


def split_indices(dataset: Dataset, split: str) -> list[int]:
    """Indices of the pieces of ``dataset`` that belong to ``split``."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    names = set(load_splits()[split])
    return [i for i, meta in enumerate(dataset.metas) if base_name(meta["name"]) in names]

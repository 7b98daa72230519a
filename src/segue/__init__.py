"""segue: a conditional GAN that continues music, bar after bar.

``import segue`` is light: PyTorch loads only when a model is used.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from segue.version import __version__

if TYPE_CHECKING:
    from segue.pipeline.model import SegueModel


def load_model(path: str | Path | None = None, device: str = "cpu") -> SegueModel:
    """Load a model folder (``config.json`` + ``model.safetensors``); the shipped model by default."""
    from segue.pipeline.model import load_model as load

    return load(path, device)


def continue_midi(source, bars: int = 8, **options):  # type: ignore[no-untyped-def]
    """Continue a MIDI file; see :func:`segue.pipeline.continuation.continue_midi`."""
    from segue.pipeline.continuation import continue_midi as run

    return run(source, bars, **options)


def continue_roll(roll, bars: int = 8, **options):  # type: ignore[no-untyped-def]
    """Continue voices given as tokens; see :func:`segue.pipeline.continuation.continue_roll`."""
    from segue.pipeline.continuation import continue_roll as run

    return run(roll, bars, **options)


__all__ = ["__version__", "continue_midi", "continue_roll", "load_model"]

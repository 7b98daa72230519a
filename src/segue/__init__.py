"""segue: a conditional GAN that continues music, bar after bar.

``import segue`` is light: PyTorch loads only when a model is used.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from segue.modelfile import SegueModel


def load_model(path: str | Path | None = None, device: str = "cpu") -> SegueModel:
    """Load a model folder (``config.json`` + ``model.safetensors``); the shipped model by default."""
    from segue.modelfile import default_model_dir
    from segue.modelfile import load_model as load

    return load(path if path is not None else default_model_dir(), device)


__all__ = ["__version__", "load_model"]

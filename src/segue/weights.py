"""Reading the files of a model folder: JSON documents and safetensors weights (never pickle),
each with a one-line error that names the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from segue.errors import SegueError


def read_document(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``, or a one-line error."""
    if not path.is_file():
        raise SegueError(f"{path.parent}: no {path.name}")
    try:
        document = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SegueError(f"{path}: unreadable ({error})") from None
    if not isinstance(document, dict):
        raise SegueError(f"{path}: expected a JSON object")
    return document


def read_weights(path: Path, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    """The tensors of a safetensors file (never unpickled), or a one-line error."""
    from safetensors.torch import load_file

    if not path.is_file():
        raise SegueError(f"{path.parent}: no {path.name}")
    try:
        return load_file(str(path), device=str(device))
    except Exception as error:
        raise SegueError(f"{path}: unreadable safetensors file ({error})") from None


def write_weights(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    """Write tensors (moved to the CPU, made contiguous) as a safetensors file."""
    from safetensors.torch import save_file

    save_file(
        {k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(path), metadata={"format": "pt"}
    )

"""Model folders on disk: ``config.json`` + ``model.safetensors`` (the Hugging Face convention),
and a subfolder per further component (the sampler's ``sampler/``), written as a whole.

Loading never unpickles: safetensors holds only tensors, and configs are checked before any
tensor is allocated.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from segue.errors import SegueError
from segue.files import make_ordinary
from segue.weights import write_weights

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"

Files = tuple[dict[str, torch.Tensor], dict[str, Any]]
"""The tensors and the JSON document of one part of a folder."""


def write_model_folder(
    path: Path,
    main: Files,
    sections: dict[str, tuple[str, Files]] | None = None,
    section_names: Iterable[str] = (),
) -> Path:
    """Write config.json and model.safetensors into ``path`` as a whole, atomically, with each
    section (name -> (weights file name, files)) in a subfolder of that name.

    Everything is written into a temporary folder beside ``path``, which then replaces ``path``;
    an existing folder is replaced only if it holds nothing but a model's files and the
    subfolders of its sections (``section_names``: every section this kind of folder may have,
    written now or not).
    """
    sections = sections or {}
    names = {p.name for p in path.iterdir()} if path.is_dir() else set()
    known = {CONFIG_NAME, WEIGHTS_NAME, *sections, *section_names}
    if path.exists() and (not path.is_dir() or names - known):
        raise SegueError(f"{path}: exists and is not a model folder; refusing to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        _write_part(tmp, WEIGHTS_NAME, main)
        for name, (weights_name, files) in sections.items():
            (tmp / name).mkdir()
            _write_part(tmp / name, weights_name, files)
        for item in (tmp, *tmp.rglob("*")):
            make_ordinary(item)
        old = path.with_name(f".{path.name}.old")
        if path.exists():
            shutil.rmtree(old, ignore_errors=True)
            path.rename(old)
        tmp.rename(path)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def _write_part(folder: Path, weights_name: str, files: Files) -> None:
    tensors, document = files
    write_weights(folder / weights_name, tensors)
    (folder / CONFIG_NAME).write_text(json.dumps(document, indent=2) + "\n")


def load_into(module: torch.nn.Module, tensors: dict[str, torch.Tensor], where: Path) -> None:
    """Load ``tensors`` into ``module``, with a one-line error unless they match it exactly."""
    expected = module.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        detail = f"missing {missing[:3]}" if missing else f"unexpected {unexpected[:3]}"
        raise SegueError(f"{where}: weights do not match the config ({detail})")
    for name, tensor in tensors.items():
        if tensor.shape != expected[name].shape:
            needed = tuple(expected[name].shape)
            raise SegueError(f"{where}: {name} has shape {tuple(tensor.shape)}, the config needs {needed}")
    module.load_state_dict(tensors)


def with_prefix(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The tensors whose names start with ``prefix``, the prefix dropped."""
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}

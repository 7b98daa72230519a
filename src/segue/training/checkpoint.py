"""Training checkpoints in safetensors (never pickle), written atomically.

A checkpoint holds every tensor needed to continue a run exactly: the weights of G,
D and G's moving average, both optimizers' states and the random generators' states;
the few non-tensor values (step, optimizer hyperparameters) travel as JSON in the
file's metadata. The file appears under its final name only once fully written, so a
run killed at any moment, or a full disk, leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from segue.errors import SegueError
from segue.files import atomic_write

PATTERN = re.compile(r"step-(\d+)\.safetensors$")


def _optimizer_tensors(optimizer: torch.optim.Optimizer, prefix: str) -> tuple[dict[str, torch.Tensor], Any]:
    state = optimizer.state_dict()
    tensors = {}
    for index, values in state["state"].items():
        for key, value in values.items():
            tensor = value if torch.is_tensor(value) else torch.tensor(value)
            tensors[f"{prefix}.{index}.{key}"] = tensor.detach().cpu().contiguous()
    return tensors, state["param_groups"]


def save_checkpoint(
    folder: Path,
    step: int,
    modules: dict[str, torch.nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
    rng_states: dict[str, torch.Tensor],
    keep: int = 2,
    info: dict[str, Any] | None = None,
) -> Path:
    """Write ``folder/step-NNNNNNN.safetensors`` and keep only the newest ``keep`` files.

    ``rng_states`` maps names (one per random generator and rank) to generator states;
    ``info`` is any JSON-ready data to keep beside them (e.g. the configs).
    """
    tensors: dict[str, torch.Tensor] = {}
    meta: dict[str, Any] = {"step": step, "param_groups": {}, "info": info or {}}
    for name, module in modules.items():
        tensors.update({f"{name}.{k}": v.detach().cpu().contiguous() for k, v in module.state_dict().items()})
    for name, optimizer in optimizers.items():
        opt_tensors, groups = _optimizer_tensors(optimizer, f"opt_{name}")
        tensors.update(opt_tensors)
        meta["param_groups"][name] = groups
    for name, state in rng_states.items():
        tensors[f"rng.{name}"] = state
    path = folder / f"step-{step:07d}.safetensors"
    try:
        atomic_write(path, lambda tmp: save_file(tensors, str(tmp), metadata={"segue": json.dumps(meta)}))
    except OSError as error:  # a full disk, a lost mount: the older checkpoints are untouched
        kept = list_checkpoints(folder)
        last = f"the last good one, {kept[-1].name}, is kept" if kept else "no earlier checkpoint exists"
        raise SegueError(
            f"{path}: could not write the checkpoint ({error.strerror or error}); {last}"
        ) from None
    for old in list_checkpoints(folder)[:-keep]:
        old.unlink(missing_ok=True)
    return path


def list_checkpoints(folder: Path) -> list[Path]:
    """Checkpoints in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if PATTERN.search(p.name)]
    return sorted(found, key=lambda p: int(PATTERN.search(p.name).group(1)))  # type: ignore[union-attr]


@dataclass(frozen=True)
class Restored:
    """What a checkpoint gave back besides the module and optimizer states."""

    step: int
    rng_states: dict[str, torch.Tensor]
    info: dict[str, Any]


def read_checkpoint(path: Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """The metadata and tensors of a checkpoint file."""
    try:
        with safe_open(str(path), framework="pt") as handle:
            meta = json.loads(handle.metadata()["segue"])
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    except Exception as error:
        raise SegueError(f"{path}: unreadable checkpoint ({error})") from None
    return meta, tensors


def load_checkpoint(
    path: Path,
    modules: dict[str, torch.nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
) -> Restored:
    """Restore the modules and optimizers :func:`save_checkpoint` wrote."""
    meta, tensors = read_checkpoint(path)
    for name, module in modules.items():
        prefix = f"{name}."
        module.load_state_dict({k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)})
    for name, optimizer in optimizers.items():
        state: dict[int, dict[str, torch.Tensor]] = {}
        prefix = f"opt_{name}."
        for key, value in tensors.items():
            if key.startswith(prefix):
                index, field = key[len(prefix) :].split(".", 1)
                state.setdefault(int(index), {})[field] = value
        optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"][name]})
    rng = {k[len("rng.") :]: v for k, v in tensors.items() if k.startswith("rng.")}
    return Restored(int(meta["step"]), rng, meta.get("info", {}))

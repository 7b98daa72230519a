"""Where training runs: the device, the process group of a distributed run, mixed precision,
and the source tree's git commit for provenance."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist

from segue.errors import SegueError


@dataclass
class Distributed:
    """Where this process stands in a (possibly) distributed run."""

    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def pick_device(name: str = "auto") -> torch.device:
    """CUDA if present, else Apple MPS, else CPU; or the device named."""
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise SegueError(f"--device {name}: CUDA is not available on this machine")
    if name == "mps" and not torch.backends.mps.is_available():
        raise SegueError("--device mps: Apple MPS is not available on this machine")
    if name not in ("auto", "cpu", "mps") and not name.startswith("cuda"):
        raise SegueError(f"--device {name}: choose auto, cpu, cuda, cuda:N or mps")
    if name.startswith("cuda") or (name == "auto" and torch.cuda.is_available()):
        index = torch.device(name if name != "auto" else "cuda").index
        device = torch.device("cuda", index if index is not None else int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
        return device
    if name != "auto":
        return torch.device(name)
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def init_distributed(device: torch.device) -> Distributed:
    """Join the process group when started by torchrun (WORLD_SIZE > 1)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Distributed()
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Distributed(dist.get_rank(), dist.get_world_size())


def autocast(device: torch.device, precision: str) -> torch.autocast:
    """bf16 autocast on CUDA or the CPU when ``precision`` is bf16 (see
    :mod:`segue.training.precision`); fp32 otherwise, and on other devices."""
    kind = device.type if device.type in ("cuda", "cpu") else "cpu"
    enabled = precision == "bf16" and device.type in ("cuda", "cpu")
    return torch.autocast(kind, dtype=torch.bfloat16, enabled=enabled)


def git_commit() -> str:
    """The source tree's git commit, or "unknown"."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"

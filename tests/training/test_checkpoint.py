"""Checkpoints under faults: a full disk while writing leaves the previous one intact."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
import torch

from segue.errors import SegueError
from segue.training import checkpoint
from segue.training.checkpoint import list_checkpoints, load_checkpoint, save_checkpoint


def state() -> tuple[dict, dict]:
    net = torch.nn.Linear(64, 64)
    optimizer = torch.optim.Adam(net.parameters())
    net(torch.randn(2, 64)).sum().backward()
    optimizer.step()
    return {"net": net}, {"opt": optimizer}


def test_a_full_disk_while_writing_keeps_the_previous_checkpoint(tmp_path: Path, monkeypatch):
    modules, optimizers = state()
    first = save_checkpoint(tmp_path, 100, modules, optimizers, {})
    before = first.read_bytes()

    def fill_the_disk(tensors, filename, metadata=None):
        with open(filename, "wb") as handle:
            handle.write(b"\x00" * 1000)  # part of the file, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoint, "save_file", fill_the_disk)
    with torch.no_grad():
        modules["net"].weight.add_(1.0)
    with pytest.raises(
        SegueError, match=r"step-0000200.safetensors: could not write the checkpoint \(No space"
    ):
        save_checkpoint(tmp_path, 200, modules, optimizers, {})
    assert list_checkpoints(tmp_path) == [first]  # neither a partial new file nor a lost old one
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.name]
    assert first.read_bytes() == before
    fresh_modules, fresh_optimizers = state()
    restored = load_checkpoint(first, fresh_modules, fresh_optimizers)
    assert restored.step == 100
    assert not torch.equal(fresh_modules["net"].weight, modules["net"].weight)  # the old weights came back

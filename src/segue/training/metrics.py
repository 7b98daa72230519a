"""Figures a training step reports besides its losses, and the error raised when they stop
being finite."""

from __future__ import annotations

import torch

from segue.errors import SegueError
from segue.music.tokens import FIRST_PITCH


def onset_rate(onehot: torch.Tensor) -> float:
    """Share of (voice, step) cells of (B, V, K, S) one-hots where a note starts."""
    return float(onehot.detach()[:, :, FIRST_PITCH:].sum(2).float().mean())


class TrainingDiverged(SegueError):
    """A loss became NaN or infinite."""

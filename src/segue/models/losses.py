"""The GAN objective: it maps discriminator scores to (D loss, G loss) terms, on raw scores of
shape (B,). The other objectives once tried (non-saturating, WGAN-GP, R1, feature matching)
are recorded in docs/experiments.md."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

Scores = torch.Tensor


@dataclass(frozen=True)
class GanLoss:
    """A GAN objective: ``d_real``/``d_fake`` terms for D, ``g`` for G (all means)."""

    name: str
    d_real: Callable[[Scores], torch.Tensor]
    d_fake: Callable[[Scores], torch.Tensor]
    g: Callable[[Scores], torch.Tensor]


HINGE = GanLoss(
    "hinge",
    d_real=lambda s: F.relu(1 - s).mean(),
    d_fake=lambda s: F.relu(1 + s).mean(),
    g=lambda s: -s.mean(),
)
"""The hinge loss (Lim & Ye 2017), the objective segue trains with."""

"""GAN objectives: each maps discriminator scores to (D loss, G loss) terms.

``get_loss(name)`` returns a :class:`GanLoss`. All operate on raw scores, shape (B,).
"""

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


LOSSES = {
    "hinge": GanLoss(
        "hinge",
        d_real=lambda s: F.relu(1 - s).mean(),
        d_fake=lambda s: F.relu(1 + s).mean(),
        g=lambda s: -s.mean(),
    ),
    "nonsaturating": GanLoss(
        "nonsaturating",
        d_real=lambda s: F.softplus(-s).mean(),
        d_fake=lambda s: F.softplus(s).mean(),
        g=lambda s: F.softplus(-s).mean(),
    ),
    "wgan-gp": GanLoss(
        "wgan-gp",
        d_real=lambda s: -s.mean(),
        d_fake=lambda s: s.mean(),
        g=lambda s: -s.mean(),
    ),
}


def get_loss(name: str) -> GanLoss:
    """The objective called ``name``: hinge, nonsaturating or wgan-gp."""
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}") from None


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    weight: torch.Tensor,
) -> torch.Tensor:
    """WGAN-GP: (|grad critic(x)| - 1)^2 at points ``weight`` of the way from fake to real."""
    mixed = (weight * real + (1 - weight) * fake).detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def r1_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor) -> torch.Tensor:
    """R1: the squared gradient norm of the critic at real inputs (Mescheder et al. 2018)."""
    real = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(real).sum(), real, create_graph=True)
    return grad.flatten(1).pow(2).sum(dim=1).mean()


def feature_matching(real_features: torch.Tensor, fake_features: torch.Tensor) -> torch.Tensor:
    """Squared distance between the batch means of D's features on real and fake pairs."""
    return (real_features.float().mean(0).detach() - fake_features.float().mean(0)).pow(2).mean()

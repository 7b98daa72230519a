"""Autoregressive continuation: each generated stretch becomes part of the next context.

R[0..P] -> F -> F -> F ...: the generator writes C bars from the last P bars (the context),
those C bars are appended, and the last P bars of the result are the next context, for any
number of bars. The sampler (:mod:`segue.sampler`) turns each step's logits into tokens. All
randomness comes from an explicit ``torch.Generator``.
"""

from __future__ import annotations

import math

import torch

from segue.models import Generator
from segue.models.blocks import onehot
from segue.sampler import PlainSampler, Sampler


def latent(batch: int, dim: int, rng: torch.Generator, truncation: float | None = None) -> torch.Tensor:
    """Normal noise z of shape (batch, dim); with ``truncation`` T, values beyond ±T are redrawn."""
    z = torch.randn(batch, dim, generator=rng, device=rng.device)  # on the generator's device
    if truncation is not None:
        if truncation <= 0:
            raise ValueError("truncation must be positive")
        outside = z.abs() > truncation
        while outside.any():
            z[outside] = torch.randn(int(outside.sum()), generator=rng, device=rng.device)
            outside = z.abs() > truncation
    return z


@torch.no_grad()
def continue_tokens(
    generator: Generator,
    context: torch.Tensor,
    bars: int,
    rng: torch.Generator,
    truncation: float | None = None,
    temperature: float = 1.0,
    sampler: Sampler | None = None,
) -> torch.Tensor:
    """Continue (B, V, Sp) context tokens by ``bars`` bars; returns (B, V, bars * steps_per_bar).

    The ``sampler`` draws each step's tokens from the generator's logits (default: the plain
    draw, the forward value of the straight-through estimator used in training); a
    ``temperature`` below 1 sharpens the softmax (fewer unlikely notes), above 1 flattens it.
    """
    if temperature <= 0:
        raise ValueError("temperature must be positive")
    config = generator.config
    if context.shape[1:] != (config.voices, config.context_steps):
        raise ValueError(f"the context must have shape (B, {config.voices}, {config.context_steps})")
    sampler = sampler if sampler is not None else PlainSampler()
    device = next(generator.parameters()).device
    history = context.long().to(device)  # the context, then everything drawn so far
    written = []
    for _ in range(math.ceil(bars / config.continuation_bars)):
        z = latent(len(context), config.z_dim, rng, truncation).to(device)
        window = history[:, :, -config.context_steps :]
        step = sampler.draw(
            generator.writer(onehot(window, config.vocab), z), window, rng, temperature, history
        )
        written.append(step)
        history = torch.cat([history, step], dim=2)
    return torch.cat(written, dim=2)[:, :, : bars * config.steps_per_bar].cpu()

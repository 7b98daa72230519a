"""Autoregressive continuation: each generated stretch becomes the next prior.

R[0..P] -> F -> F -> F ...: the generator writes C bars from the last P bars, those
C bars are appended, and the last P bars of the result are the next prior, for any
number of bars. All randomness comes from an explicit ``torch.Generator``.
"""

from __future__ import annotations

import math

import torch

from segue.data.windows import onehot
from segue.models import Generator
from segue.models.blocks import sample_tokens
from segue.models.lineprior import LinePrior, last_states


def latent(batch: int, dim: int, generator: torch.Generator, truncation: float | None = None) -> torch.Tensor:
    """Normal noise z of shape (batch, dim); with ``truncation`` T, values beyond ±T are redrawn."""
    z = torch.randn(batch, dim, generator=generator)
    if truncation is not None:
        if truncation <= 0:
            raise ValueError("truncation must be positive")
        outside = z.abs() > truncation
        while outside.any():
            z[outside] = torch.randn(int(outside.sum()), generator=generator)
            outside = z.abs() > truncation
    return z


@torch.no_grad()
def continue_tokens(
    generator_net: Generator,
    prior: torch.Tensor,
    bars: int,
    generator: torch.Generator,
    truncation: float | None = None,
    temperature: float = 1.0,
    lines: LinePrior | None = None,
) -> torch.Tensor:
    """Continue (B, V, Sp) prior tokens by ``bars`` bars; returns (B, V, bars * steps_per_bar).

    Tokens are drawn from the generator's softmax (the same draw as the forward value of
    the straight-through estimator used in training); a ``temperature`` below 1 sharpens
    it (fewer unlikely notes), above 1 flattens it. With a line prior, each voice's line
    is drawn as a whole from the softmax times the prior's voice-leading term
    (:mod:`segue.models.lineprior`), continuing from where the context leaves it.
    """
    if temperature <= 0:
        raise ValueError("temperature must be positive")
    config = generator_net.config
    if prior.shape[1:] != (config.voices, config.prior_steps):
        raise ValueError(f"prior must have shape (B, {config.voices}, {config.prior_steps})")
    device = next(generator_net.parameters()).device
    context = prior.long().to(device)
    written = []
    for _ in range(math.ceil(bars / config.continuation_bars)):
        z = latent(len(prior), config.z_dim, generator, truncation).to(device)
        window = context[:, :, -config.prior_steps :]
        logits = generator_net.logits(onehot(window, config.vocab), z)
        if lines is None:
            step = sample_tokens(logits.float() / temperature, generator)  # (B, V, Sc)
        else:
            start = last_states(context, lines.pitches)
            step = lines.sample(logits.float().cpu(), start, generator, temperature, window.cpu()).to(device)
        written.append(step)
        context = torch.cat([context, step], dim=2)
    return torch.cat(written, dim=2)[:, :, : bars * config.steps_per_bar].cpu()

"""The conditional VAE baseline: the same generator, trained by maximum likelihood.

The decoder is a :class:`~segue.models.generator.Generator` (same conditioner, same size);
an encoder q(z | context, continuation) is added for training only. At sampling time z is
drawn from N(0, I), exactly as for the GAN, so the two are compared like for like.
"""

from __future__ import annotations

import torch
from torch import nn

from segue.models.blocks import ConvBlock, VoiceEmbedding
from segue.models.config import ModelConfig


class ContinuationEncoder(nn.Module):
    """q(z | context, continuation): (B, V, K, Sp), (B, V, K, Sc) one-hots -> (mu, logvar), each (B, z)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        c = config.channels
        self.embed = VoiceEmbedding(config.voices, config.vocab, config.embed_dim)
        layers: list[nn.Module] = [ConvBlock(config.voices * config.embed_dim, c // 2, kernel=5)]
        steps, width = config.context_steps + config.continuation_steps, c // 2
        while steps > config.steps_per_bar // 2 and steps % 2 == 0:
            layers.append(ConvBlock(width, c, 4, 2))
            width, steps = c, steps // 2
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(c * steps, 2 * config.z_dim)

    def forward(self, context: torch.Tensor, continuation: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.body(self.embed(torch.cat([context, continuation], dim=3)))  # (B, c, S')
        mu, logvar = self.head(x.flatten(1)).float().chunk(2, dim=1)
        return mu, logvar.clamp(-10, 10)


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(q || N(0, I)) summed over z, averaged over the batch."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(dim=1).mean()

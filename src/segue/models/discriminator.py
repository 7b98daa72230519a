"""The discriminator D(prior, candidate) -> score: it judges the pair, seam included.

The prior and the candidate are joined along time into one sequence, with a channel
that marks which steps are the candidate, so D sees the seam between them; a D that
saw only the candidate could not teach G to follow the prior (MidiNet's weakness).
"""

from __future__ import annotations

import torch
from torch import nn

from segue.config import ModelConfig
from segue.models.blocks import ResBlock, VoiceEmbedding, conv


class Discriminator(nn.Module):
    """(B, V, K, Sp) prior and (B, V, K, Sc) candidate one-hots -> (B,) scores (higher: more real)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        c, sn = config.d_channels, config.spectral_norm
        self.embed = VoiceEmbedding(config.voices, config.vocab, config.embed_dim)
        self.stem = conv(config.voices * config.embed_dim + 1, c // 2, 3, sn=sn)
        steps = config.prior_steps + config.continuation_steps
        layers: list[nn.Module] = []
        width = c // 2
        while steps > config.steps_per_bar // 2 and steps % 2 == 0:
            layers += [nn.LeakyReLU(0.2), conv(width, c, 4, 2, sn=sn)]
            width, steps = c, steps // 2
        self.body = nn.Sequential(*layers, ResBlock(c, sn=sn, norm=False), nn.LeakyReLU(0.2))
        extra = 1 if config.minibatch_std else 0
        self.head = conv(c + extra, c, 3, sn=sn)
        self.out = nn.Linear(c * steps, 1)
        if sn:
            self.out = nn.utils.parametrizations.spectral_norm(self.out)

    def features(self, prior: torch.Tensor, candidate: torch.Tensor) -> torch.Tensor:
        """The last hidden features, (B, c, S'), used for feature matching."""
        pair = torch.cat([prior, candidate], dim=3)  # (B, V, K, Sp+Sc)
        x = self.embed(pair)  # (B, V*E, S)
        marker = torch.zeros_like(x[:, :1])
        marker[..., prior.shape[3] :] = 1.0
        x = self.body(self.stem(torch.cat([x, marker], dim=1)))  # (B, c, S')
        if self.config.minibatch_std:
            spread = x.float().std(dim=0, unbiased=False).mean().to(x.dtype)
            x = torch.cat([x, spread.expand(len(x), 1, x.shape[-1])], dim=1)
        return nn.functional.leaky_relu(self.head(x), 0.2)

    def forward(self, prior: torch.Tensor, candidate: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(prior, candidate).flatten(1)).squeeze(1)  # (B,)

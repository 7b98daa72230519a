"""The discriminator D(context, candidate) -> score: it judges the pair, seam included.

The context and the candidate are joined along time into one sequence, with a channel
that marks which steps are the candidate, so D sees the seam between them; a D that
saw only the candidate could not teach G to follow the context (MidiNet's weakness).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from segue.models.blocks import ResBlock, VoiceEmbedding, conv
from segue.models.config import ModelConfig


class Discriminator(nn.Module):
    """(B, V, K, Sp) context and (B, V, K, Sc) candidate one-hots -> (B,) scores (higher: more real)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        c, sn = config.d_channels, config.spectral_norm
        self.embed = VoiceEmbedding(config.voices, config.vocab, config.embed_dim)
        stem_in = config.voices * config.embed_dim + 1
        self.stem = conv(stem_in, c // 2, 3, sn=sn)
        steps = config.context_steps + config.continuation_steps
        layers: list[nn.Module] = []
        width = c // 2
        while steps > config.steps_per_bar // 2 and steps % 2 == 0:
            layers += [nn.LeakyReLU(0.2), conv(width, c, 4, 2, sn=sn)]
            width, steps = c, steps // 2
        self.body = nn.Sequential(*layers, ResBlock(c, sn=sn, norm=False), nn.LeakyReLU(0.2))
        extra = 1 if config.minibatch_std else 0
        self.head = conv(c + extra, c, 3, sn=sn)
        self.out: nn.Module = nn.Linear(c * steps, 1)
        # Tonal agreement: pitch-class profiles of context and candidate, compared directly.
        folding = torch.zeros(config.vocab, 12)
        for token in range(2, config.vocab):
            folding[token, (config.lowest + token - 2) % 12] = 1.0
        self.register_buffer("folding", folding, persistent=False)
        self.tonal = nn.Sequential(nn.Linear(36, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1))
        if sn:
            self.out = nn.utils.parametrizations.spectral_norm(self.out)
            for i in (0, 2):
                self.tonal[i] = nn.utils.parametrizations.spectral_norm(self.tonal[i])

    def features(self, context: torch.Tensor, candidate: torch.Tensor, group: int = 4) -> torch.Tensor:
        """The last hidden features, (B, c, S').

        ``group`` is the minibatch-spread group size: a divisor of the size of each batch
        that was concatenated into this one, so that groups never mix them.
        """
        pair = torch.cat([context, candidate], dim=3)  # (B, V, K, Sp+Sc)
        x = self.embed(pair)  # (B, V*E, S)
        marker = torch.zeros_like(x[:, :1])
        marker[..., context.shape[3] :] = 1.0
        x = self.body(self.stem(torch.cat([x, marker], dim=1)))  # (B, c, S')
        if self.config.minibatch_std:
            x = torch.cat([x, minibatch_spread(x, group)], dim=1)
        return nn.functional.leaky_relu(self.head(x), 0.2)

    def pitch_classes(self, onehot: torch.Tensor) -> torch.Tensor:
        """(B, V, K, S) one-hots -> (B, 12) share of note onsets in each pitch class."""
        counts = torch.einsum("bvks,kp->bp", onehot.float(), self.folding)
        return counts / counts.sum(dim=1, keepdim=True).clamp_min(1.0)

    def score(self, features: torch.Tensor, context: torch.Tensor, candidate: torch.Tensor) -> torch.Tensor:
        """The score from :meth:`features` and the pair's pitch-class profiles, (B,)."""
        a, b = self.pitch_classes(context), self.pitch_classes(candidate)
        tonal = self.tonal(torch.cat([a, b, a * b * 12], dim=1).to(features.dtype))
        return (self.out(features.flatten(1)) + tonal).squeeze(1)

    def forward(self, context: torch.Tensor, candidate: torch.Tensor, group: int = 4) -> torch.Tensor:
        return self.score(self.features(context, candidate, group), context, candidate)  # (B,)


def minibatch_spread(x: torch.Tensor, group: int = 4) -> torch.Tensor:
    """(B, C, S) -> (B, 1, S): the mean standard deviation of features within groups of
    ``group`` consecutive samples (ProGAN's minibatch standard deviation).

    Groups never mix batches that were concatenated, as long as each part's size is a
    multiple of the group (the trainer joins real, generated and mismatched pairs).
    """
    batch, _, steps = x.shape
    group = math.gcd(batch, group)
    grouped = x.float().view(batch // group, group, -1)  # (B/g, g, C*S)
    variance = (grouped - grouped.mean(dim=1, keepdim=True)).pow(2).mean(dim=1)  # much faster than std()
    spread = variance.add(1e-8).sqrt().mean(dim=1)  # (B/g,)
    return spread.repeat_interleave(group).to(x.dtype)[:, None, None].expand(batch, 1, steps)

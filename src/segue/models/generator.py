"""The generator G(context, z) -> continuation, and its conditioner.

The conditioner encodes the context bars at four resolutions (step, eighth, beat, bar)
and into one summary vector. G starts from z and the summary at bar resolution and
upsamples to steps; at every resolution it concatenates the conditioner's features of
the same resolution (as MidiNet does), so the context shapes the continuation's
harmony, rhythm and the seam, not only its start. The context is aligned bar for bar
with the continuation when P = C; otherwise its features are resampled in time.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from segue.models.blocks import ConvBlock, ResBlock, VoiceEmbedding, conv, straight_through_gumbel
from segue.models.config import ModelConfig


def _factors(config: ModelConfig) -> tuple[int, int, int]:
    """Downsampling factors from one resolution to the next: steps -> eighths -> beats -> bars."""
    return 2, config.steps_per_beat // 2, config.steps_per_bar // config.steps_per_beat


class Conditioner(nn.Module):
    """Encode the context: (B, V, K, Sp) one-hots -> features at four resolutions and a summary."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        c = config.channels
        self.embed = VoiceEmbedding(config.voices, config.vocab, config.embed_dim)
        self.stem = ConvBlock(config.voices * config.embed_dim, c // 2, kernel=5)
        f1, f2, f3 = _factors(config)
        self.down = nn.ModuleList(
            [ConvBlock(c // 2, c // 2, 2 * f1, f1), ConvBlock(c // 2, c, 2 * f2, f2), ConvBlock(c, c, f3, f3)]
        )
        self.res = ResBlock(c)
        self.summary = nn.Linear(c * config.context_bars, c)

    def forward(self, context: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        x = self.stem(self.embed(context))  # (B, c/2, Sp)
        features = [x]
        for layer in self.down:
            x = layer(x)
            features.append(x)
        bars = self.res(features[-1])  # (B, c, P)
        features[-1] = bars
        summary = F.leaky_relu(self.summary(bars.flatten(1)), 0.2)  # (B, c)
        return features, summary  # lengths: steps, eighths, beats, bars of the context


class Generator(nn.Module):
    """G(context, z) -> logits of the continuation's tokens, (B, V, K, Sc)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        c = config.channels
        self.conditioner = Conditioner(config)
        self.start = nn.Linear(config.z_dim + c, c * config.continuation_bars)
        f1, f2, f3 = _factors(config)
        self.factors = (f3, f2, f1)
        # From bars up to steps; each stage sees G's features and the context's at that resolution.
        self.stages = nn.ModuleList(
            [
                nn.Sequential(ConvBlock(2 * c, c), ResBlock(c)),  # bars
                nn.Sequential(ConvBlock(2 * c, c), ResBlock(c)),  # beats
                nn.Sequential(ConvBlock(c + c // 2, c // 2), ResBlock(c // 2)),  # eighths
                nn.Sequential(ConvBlock(c // 2 + c // 2, c // 2), ResBlock(c // 2)),  # steps
            ]
        )
        self.out = conv(c // 2, config.voices * config.vocab, 1)

    def logits(self, context: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Unnormalized log-probabilities of every token of the continuation."""
        cfg = self.config
        features, summary = self.conditioner(context)
        x = self.start(torch.cat([z, summary], dim=1)).view(len(z), -1, cfg.continuation_bars)  # (B, c, C)
        for i, stage in enumerate(self.stages):
            if i > 0:
                x = F.interpolate(x, scale_factor=self.factors[i - 1], mode="nearest")
            cond = features[len(features) - 1 - i]
            if cond.shape[-1] != x.shape[-1]:
                cond = F.interpolate(cond, size=x.shape[-1], mode="nearest")
            x = stage(torch.cat([x, cond], dim=1))
        logits = self.out(x)  # (B, V*K, Sc)
        return logits.view(len(z), cfg.voices, cfg.vocab, -1)  # (B, V, K, Sc)

    def forward(
        self,
        context: torch.Tensor,
        z: torch.Tensor,
        tau: float = 1.0,
        rng: torch.Generator | None = None,
    ) -> torch.Tensor:
        """A continuation as straight-through one-hots, (B, V, K, Sc)."""
        return straight_through_gumbel(self.logits(context, z), tau, rng)

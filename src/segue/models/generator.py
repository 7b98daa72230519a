"""The generator G(context, z) -> continuation, and its conditioner.

The conditioner encodes the context bars at four resolutions (step, eighth, beat, bar)
and into one summary vector. G starts from z and the summary at bar resolution and
upsamples to steps; at every resolution it concatenates the conditioner's features of
the same resolution (as MidiNet does), so the context shapes the continuation's
harmony, rhythm and the seam, not only its start. The context is aligned bar for bar
with the continuation when P = C; otherwise its features are resampled in time.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from segue.models.blocks import (
    ConvBlock,
    ResBlock,
    VoiceEmbedding,
    conv,
    onehot,
    straight_through_gumbel,
)
from segue.models.config import ModelConfig

VoiceLogits = Callable[[int, "torch.Tensor | None"], torch.Tensor]
"""A generator whose voices are written from the top (:class:`VoiceHead`): (v, the (B, v, S)
tokens drawn for the voices above, None for the top voice) -> the (B, K, S) logits of voice v."""


def _factors(config: ModelConfig) -> tuple[int, int, int]:
    """Downsampling factors from one resolution to the next: steps -> eighths -> beats -> bars."""
    return 2, config.steps_per_beat // 2, config.steps_per_bar // config.steps_per_beat


def _kernel(factor: int) -> int:
    """The kernel of a downsampling step: twice its factor; 3 where it keeps the length (a step of
    2 per quarter note already is an eighth)."""
    return 2 * factor if factor > 1 else 3


class Conditioner(nn.Module):
    """Encode the context: (B, V, K, Sp) one-hots -> features at four resolutions and a summary."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        c = config.channels
        self.embed = VoiceEmbedding(config.voices, config.vocab, config.embed_dim)
        self.stem = ConvBlock(config.voices * config.embed_dim, c // 2, kernel=5)
        f1, f2, f3 = _factors(config)
        self.down = nn.ModuleList(
            [
                ConvBlock(c // 2, c // 2, _kernel(f1), f1),
                ConvBlock(c // 2, c, _kernel(f2), f2),
                ConvBlock(c, c, f3, f3),
            ]
        )
        self.res = ResBlock(c)
        self.summary = nn.Linear(c * config.context_bars, c)
        self.drop = nn.Dropout(config.dropout)

    def forward(self, context: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        x = self.drop(self.stem(self.embed(context)))  # (B, c/2, Sp)
        features = [x]
        for layer in self.down:
            x = self.drop(layer(x))
            features.append(x)
        bars = self.drop(self.res(features[-1]))  # (B, c, P)
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
        if config.seam:  # the context's last bar, read directly at every written step
            self.seam = nn.Linear(config.voices * config.vocab * config.steps_per_bar, c // 2)
            self.seam_profile = nn.Parameter(torch.ones(c // 2, config.continuation_steps))
        self.out: nn.Module = (
            conv(c // 2, config.voices * config.vocab, 1)
            if config.head == "cells"
            else VoiceHead(c // 2, config.voices, config.vocab)
        )
        self.drop = nn.Dropout(config.dropout)

    def features(self, context: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """G's features at step resolution, (B, c/2, Sc), from which the head writes the tokens."""
        cfg = self.config
        features, summary = self.conditioner(context)
        x = self.start(torch.cat([z, summary], dim=1)).view(len(z), -1, cfg.continuation_bars)  # (B, c, C)
        for i, stage in enumerate(self.stages):
            if i > 0:
                x = F.interpolate(x, scale_factor=self.factors[i - 1], mode="nearest")
            cond = features[len(features) - 1 - i]
            if cond.shape[-1] != x.shape[-1]:
                cond = F.interpolate(cond, size=x.shape[-1], mode="nearest")
            if i == len(self.stages) - 1 and cfg.seam:
                last_bar = context[..., -cfg.steps_per_bar :].flatten(1).to(cond.dtype)
                cond = cond + F.leaky_relu(self.seam(last_bar), 0.2)[:, :, None] * self.seam_profile
            x = self.drop(stage(torch.cat([x, cond], dim=1)))
        return x

    def logits(
        self, context: torch.Tensor, z: torch.Tensor, given: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Unnormalized log-probabilities of every token of the continuation, (B, V, K, Sc).

        With the voice head each voice's logits read the voices above it in ``given`` (the
        (B, V, K, Sc) one-hots of a continuation: the real one when G learns to rebuild it).
        """
        x = self.features(context, z)
        if isinstance(self.out, VoiceHead):
            if given is None:
                raise ValueError("the voice head's logits need the voices above: pass given")
            return self.out(x, given)
        return self.out(x).view(len(z), self.config.voices, self.config.vocab, -1)

    def forward(
        self,
        context: torch.Tensor,
        z: torch.Tensor,
        tau: float = 1.0,
        rng: torch.Generator | None = None,
    ) -> torch.Tensor:
        """A continuation as straight-through one-hots, (B, V, K, Sc)."""
        if isinstance(self.out, VoiceHead):
            return self.out.draw(self.features(context, z), tau, rng)
        return straight_through_gumbel(self.logits(context, z), tau, rng)

    def writer(self, context: torch.Tensor, z: torch.Tensor) -> torch.Tensor | VoiceLogits:
        """What a sampler draws from: the (B, V, K, Sc) logits, or with the voice head a function
        from (v, the (B, v, Sc) tokens drawn for the voices above) to voice v's (B, K, Sc) logits."""
        if not isinstance(self.out, VoiceHead):
            return self.logits(context, z)
        head, x, vocab = self.out, self.features(context, z), self.config.vocab
        return lambda v, above: head.voice(v, x, None if above is None else onehot(above, vocab, x.dtype))


class VoiceHead(nn.Module):
    """Logits voice after voice from the top: voice v reads G's features and the tokens the
    voices above it drew at the same step and its neighbours (a convolution of width 3), so a
    voice can be chosen to sound with the others rather than beside them. (B, H, S) -> (B, V, K, S).
    """

    def __init__(self, features: int, voices: int, vocab: int, hidden: int = 64) -> None:
        super().__init__()
        self.vocab = vocab
        self.own = nn.ModuleList(conv(features, hidden, 1) for _ in range(voices))
        self.above = nn.ModuleList(
            nn.Conv1d(v * vocab, hidden, 3, padding=1, bias=False) for v in range(1, voices)
        )
        self.mid = nn.ModuleList(conv(hidden, hidden, 1) for _ in range(voices))
        self.last = nn.ModuleList(conv(hidden, vocab, 1) for _ in range(voices))

    def voice(self, v: int, x: torch.Tensor, above: torch.Tensor | None) -> torch.Tensor:
        """(B, K, S) logits of voice ``v`` from features ``x`` and the (B, v, K, S) one-hots above it."""
        h = self.own[v](x)
        if v > 0 and above is not None:
            h = h + self.above[v - 1](above.flatten(1, 2).to(h.dtype))
        h = self.mid[v](F.leaky_relu(h, 0.2))
        return self.last[v](F.leaky_relu(h, 0.2))

    def forward(self, x: torch.Tensor, given: torch.Tensor) -> torch.Tensor:
        """Every voice's logits with the voices above taken from ``given`` (teacher forcing)."""
        return torch.stack([self.voice(v, x, given[:, :v]) for v in range(len(self.own))], dim=1)

    def draw(self, x: torch.Tensor, tau: float, rng: torch.Generator | None) -> torch.Tensor:
        """(B, V, K, S) straight-through one-hots drawn voice after voice from the top."""
        drawn: list[torch.Tensor] = []
        for v in range(len(self.own)):
            logits = self.voice(v, x, torch.stack(drawn, dim=1) if drawn else None)
            drawn.append(straight_through_gumbel(logits.unsqueeze(1), tau, rng)[:, 0])
        return torch.stack(drawn, dim=1)

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
from segue.music.tokens import FIRST_PITCH

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
            else VoiceHead(
                c // 2,
                config.voices,
                config.vocab,
                lowest=config.lowest if config.plan else None,
                pull=config.plan_pull,
            )
        )
        if config.plan:  # the config allows a plan only with the voice head
            self.plan = PlanHead(c // 2, config.steps_per_beat, config.dropout)
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
        return self.logits_and_plan(context, z, given)[0]

    def logits_and_plan(
        self, context: torch.Tensor, z: torch.Tensor, given: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """:meth:`logits`, and with a plan the cross-entropy of the plan head against the chords of
        ``given`` (under which the voices are written: teacher forcing), else None."""
        x = self.features(context, z)
        if isinstance(self.out, VoiceHead):
            if given is None:
                raise ValueError("the voice head's logits need the voices above: pass given")
            if not self.config.plan:
                return self.out(x, given), None
            target = beat_chords(context, given, self.config)  # (B, beats) set indices
            plan_logits = self.plan(x)  # (B, SETS, beats)
            loss = F.cross_entropy(plan_logits.float(), target)
            return self.out(x, given, self._chords_of(target, x.dtype)), loss
        return self.out(x).view(len(z), self.config.voices, self.config.vocab, -1), None

    def _chords_of(
        self, index: torch.Tensor, dtype: torch.dtype, carry: torch.Tensor | None = None
    ) -> torch.Tensor:
        """(B, 12, Sc) each step's beat's pitch classes, from (B, beats) set indices; ``carry``:
        (B, SETS, beats) set weights added to their one-hots first (a zero that carries a gradient)."""
        sets = F.one_hot(index, CHORD_SETS).transpose(1, 2).to(dtype)
        return self._chord_steps(sets if carry is None else sets + carry.to(dtype))

    def _chord_steps(self, sets: torch.Tensor) -> torch.Tensor:
        """(B, 12, Sc) each step's beat's pitch classes, from (B, SETS, beats) set weights."""
        classes = torch.einsum("bnt,nc->bct", sets, SET_CLASSES.to(sets.device, sets.dtype))
        return classes.repeat_interleave(self.config.steps_per_beat, dim=2)

    def draw_plan(self, x: torch.Tensor, tau: float) -> torch.Tensor:
        """(B, 12, Sc) the chords G decides: each beat's likeliest set, as the writer takes it, with
        the gradient of the softmax at temperature ``tau`` (straight through)."""
        logits = self.plan(x).float()
        soft = F.softmax(logits / tau, dim=1)
        return self._chords_of(logits.argmax(1), x.dtype, carry=soft - soft.detach())

    def forward(
        self,
        context: torch.Tensor,
        z: torch.Tensor,
        tau: float = 1.0,
        rng: torch.Generator | None = None,
    ) -> torch.Tensor:
        """A continuation as straight-through one-hots, (B, V, K, Sc)."""
        if isinstance(self.out, VoiceHead):
            x = self.features(context, z)
            chord = self.draw_plan(x, tau) if self.config.plan else None
            return self.out.draw(x, tau, rng, chord)
        return straight_through_gumbel(self.logits(context, z), tau, rng)

    def writer(self, context: torch.Tensor, z: torch.Tensor) -> torch.Tensor | VoiceLogits:
        """What a sampler draws from: the (B, V, K, Sc) logits, or with the voice head a function
        from (v, the (B, v, Sc) tokens drawn for the voices above) to voice v's (B, K, Sc) logits.
        With a plan each beat's chord is the plan head's likeliest set (given z, no draw: drawing
        them read worse, docs/experiments.md, 2026-12-06)."""
        if not isinstance(self.out, VoiceHead):
            return self.logits(context, z)
        head, x, vocab = self.out, self.features(context, z), self.config.vocab
        chord = self._chords_of(self.plan(x).argmax(1), x.dtype) if self.config.plan else None
        return lambda v, above: head.voice(
            v, x, None if above is None else onehot(above, vocab, x.dtype), chord
        )


class VoiceHead(nn.Module):
    """Logits voice after voice from the top: voice v reads G's features and the tokens the
    voices above it drew at the same step and its neighbours (a convolution of width 3), so a
    voice can be chosen to sound with the others rather than beside them. (B, H, S) -> (B, V, K, S).
    """

    def __init__(
        self,
        features: int,
        voices: int,
        vocab: int,
        hidden: int = 64,
        lowest: int | None = None,
        pull: float = 0.0,
    ) -> None:
        super().__init__()
        self.vocab = vocab
        self.pull = pull
        if lowest is not None:  # a plan: each voice reads its beat's chord, from nothing at first
            layers = [nn.Conv1d(12, hidden, 1, bias=False) for _ in range(voices)]
            for layer in layers:
                nn.init.zeros_(layer.weight)
            self.chord_in = nn.ModuleList(layers)
            self.chord_gain = nn.Parameter(torch.zeros(voices))
            member = torch.zeros(vocab, 12)
            pitches = torch.arange(vocab - FIRST_PITCH)
            member[FIRST_PITCH + pitches, (lowest + pitches) % 12] = 1
            self.register_buffer("member", member, persistent=False)
        self.own = nn.ModuleList(conv(features, hidden, 1) for _ in range(voices))
        self.above = nn.ModuleList(
            nn.Conv1d(v * vocab, hidden, 3, padding=1, bias=False) for v in range(1, voices)
        )
        self.mid = nn.ModuleList(conv(hidden, hidden, 1) for _ in range(voices))
        self.last = nn.ModuleList(conv(hidden, vocab, 1) for _ in range(voices))

    def voice(
        self, v: int, x: torch.Tensor, above: torch.Tensor | None, chord: torch.Tensor | None = None
    ) -> torch.Tensor:
        """(B, K, S) logits of voice ``v`` from features ``x`` and the (B, v, K, S) one-hots above it
        (and with a plan the (B, 12, S) pitch classes of each step's beat)."""
        h = self.own[v](x)
        if v > 0 and above is not None:
            h = h + self.above[v - 1](above.flatten(1, 2).to(h.dtype))
        if chord is not None:
            h = h + self.chord_in[v](chord.to(h.dtype))
        h = self.mid[v](F.leaky_relu(h, 0.2))
        out = self.last[v](F.leaky_relu(h, 0.2))
        if chord is not None:
            inside = torch.einsum("kc,bcs->bks", self.member.to(out.dtype), chord.to(out.dtype))
            out = out + (self.pull + self.chord_gain[v]) * inside
        return out

    def forward(
        self, x: torch.Tensor, given: torch.Tensor, chord: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Every voice's logits with the voices above taken from ``given`` (teacher forcing)."""
        return torch.stack([self.voice(v, x, given[:, :v], chord) for v in range(len(self.own))], dim=1)

    def draw(
        self, x: torch.Tensor, tau: float, rng: torch.Generator | None, chord: torch.Tensor | None = None
    ) -> torch.Tensor:
        """(B, V, K, S) straight-through one-hots drawn voice after voice from the top."""
        drawn: list[torch.Tensor] = []
        for v in range(len(self.own)):
            logits = self.voice(v, x, torch.stack(drawn, dim=1) if drawn else None, chord)
            drawn.append(straight_through_gumbel(logits.unsqueeze(1), tau, rng)[:, 0])
        return torch.stack(drawn, dim=1)


def _sets() -> torch.Tensor:
    """(SETS, 12) every set of at most four pitch classes, as rows of 0/1."""
    rows = [[(mask >> c) & 1 for c in range(12)] for mask in range(1 << 12) if bin(mask).count("1") <= 4]
    return torch.tensor(rows, dtype=torch.float32)


SET_CLASSES = _sets()
CHORD_SETS = len(SET_CLASSES)
_INDEX = torch.full((1 << 12,), -1, dtype=torch.long)
_INDEX[(SET_CLASSES * (2 ** torch.arange(12, dtype=torch.float32))).sum(1).long()] = torch.arange(CHORD_SETS)


def beat_chords(context: torch.Tensor, given: torch.Tensor, config: ModelConfig) -> torch.Tensor:
    """(B, beats) the set index of the pitch classes sounding at each beat's first step of the
    (B, V, K, Sc) one-hot continuation ``given`` after the (B, V, K, Sp) ``context`` (holds
    resolved through the context); a plan has at most four voices, so at most four classes."""
    # (segue.sampler.states.sounding_pitches does this in NumPy, but models may not import the sampler)
    tokens = torch.cat([context, given], dim=3).argmax(2)  # (B, V, S)
    current = torch.full(tokens.shape[:2], -1, dtype=torch.long, device=tokens.device)
    sounding = []
    for t in range(tokens.shape[2]):
        token = tokens[:, :, t]
        current = torch.where(token >= FIRST_PITCH, token - FIRST_PITCH, torch.where(token == 0, -1, current))
        sounding.append(current)
    pitch = torch.stack(sounding, dim=2)[:, :, context.shape[3] :: config.steps_per_beat]  # (B, V, beats)
    bits = torch.where(pitch >= 0, 2 ** ((pitch + config.lowest) % 12), torch.zeros_like(pitch))
    mask = torch.zeros(bits.shape[0], bits.shape[2], dtype=torch.long, device=bits.device)
    for v in range(bits.shape[1]):
        mask = mask | bits[:, v]
    return _INDEX.to(mask.device)[mask]


class PlanHead(nn.Module):
    """The chord of every beat: (B, H, Sc) features pooled per beat -> (B, SETS, beats) logits."""

    def __init__(self, features: int, steps_per_beat: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.pool = steps_per_beat
        self.mid = nn.Conv1d(features, features, 3, padding=1)
        self.drop = nn.Dropout(dropout)  # the head is wide (794 sets) and learns training chords by heart
        self.last = nn.Conv1d(features, CHORD_SETS, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        beats = F.avg_pool1d(x, self.pool)
        return self.last(self.drop(F.leaky_relu(self.mid(beats), 0.2)))

"""The discriminator D(prior, candidate) -> score: it judges the pair, seam included.

The prior and the candidate are joined along time into one sequence, with a channel
that marks which steps are the candidate, so D sees the seam between them; a D that
saw only the candidate could not teach G to follow the prior (MidiNet's weakness).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from segue.config import ModelConfig
from segue.models.blocks import ResBlock, VoiceEmbedding, conv
from segue.music.tokens import FIRST_PITCH, REST


class IntervalFeatures(nn.Module):
    """Intervals of (B, V, K, S) one-hot voices as histograms, (B, 27V + 27(V - 1), S).

    For each voice, at each note onset, the melodic interval from the voice's previous
    note (-13..13 semitones); for each pair of adjacent voices, at each step where both
    sound, the upper voice's pitch minus the lower one's (-1..25: -1 is a crossing).
    Larger intervals leave the row empty. Each histogram is a product of one-hots (the
    note and the one it is measured from), so it is exact in the forward pass and its
    gradient asks G for the pitch that makes a better interval with the other note.
    """

    MELODIC = tuple(range(-13, 14))
    VERTICAL = tuple(range(-1, 26))

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.channels = len(self.MELODIC) * config.voices + len(self.VERTICAL) * (config.voices - 1)

    def forward(self, onehot: torch.Tensor) -> torch.Tensor:
        pitched = onehot[:, :, FIRST_PITCH:].float()  # (B, V, P, S)
        batch, voices, _, steps = pitched.shape
        onset = pitched.detach().sum(2) > 0.5  # (B, V, S)
        sounding = onehot[:, :, REST].detach() < 0.5
        time = torch.arange(steps, device=onehot.device).expand(batch, voices, steps)
        last = torch.where(onset, time, torch.full_like(time, -1)).cummax(dim=2).values  # last onset <= t
        before = torch.cat([torch.full_like(last[..., :1], -1), last[..., :-1]], dim=2)  # last onset < t
        current = _gather_steps(pitched, last) * (sounding & (last >= 0)).unsqueeze(2).float()
        previous = _gather_steps(pitched, before)
        melodic = _correlate(pitched, previous, self.MELODIC)  # (B, V, 27, S)
        vertical = _correlate(current[:, :-1], current[:, 1:], self.VERTICAL)  # (B, V - 1, 27, S)
        return torch.cat([melodic, vertical], dim=1).flatten(1, 2)


def _gather_steps(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """(B, V, P, S) one-hots taken at the steps ``index`` (B, V, S); zero where index < 0."""
    taken = torch.gather(x, 3, index.clamp_min(0).unsqueeze(2).expand_as(x))
    return taken * (index >= 0).unsqueeze(2).to(x.dtype)


def _correlate(upper: torch.Tensor, lower: torch.Tensor, lags: tuple[int, ...]) -> torch.Tensor:
    """(B, N, len(lags), S): for each lag d, the sum over pitches k of upper[k] * lower[k - d],
    for (B, N, P, S) inputs that are one-hot (or all zero) along the pitch axis."""
    return _OneHotCorrelation.apply(upper, lower, lags[0], len(lags))


class _OneHotCorrelation(torch.autograd.Function):
    """The correlation of :func:`_correlate`, computed from the hot indices.

    With one-hot inputs only one lag is non-zero, and the gradient with respect to
    ``upper[k]`` is the incoming gradient at lag ``k - (lower's pitch)`` (and symmetrically
    for ``lower``): exact, and far cheaper than a product per lag.
    """

    @staticmethod
    def forward(ctx, upper, lower, first, count):  # type: ignore[no-untyped-def, override]
        up_hot, up_at = upper.max(dim=2)
        low_hot, low_at = lower.max(dim=2)
        present = (up_hot > 0.5) & (low_hot > 0.5)
        lag = up_at - low_at - first  # (B, N, S), index into the lags
        valid = present & (lag >= 0) & (lag < count)
        out = upper.new_zeros(upper.shape[0], upper.shape[1], count, upper.shape[3])
        out.scatter_(2, lag.clamp(0, count - 1).unsqueeze(2), valid.unsqueeze(2).to(out.dtype))
        ctx.save_for_backward(up_at, low_at, up_hot > 0.5, low_hot > 0.5)
        ctx.first, ctx.count, ctx.pitches = first, count, upper.shape[2]
        return out

    @staticmethod
    def backward(ctx, grad):  # type: ignore[no-untyped-def, override]
        up_at, low_at, up_on, low_on = ctx.saved_tensors
        k = torch.arange(ctx.pitches, device=grad.device).view(1, 1, -1, 1)

        def take(index: torch.Tensor, on: torch.Tensor) -> torch.Tensor:
            inside = (index >= 0) & (index < ctx.count) & on.unsqueeze(2)
            taken = torch.gather(grad, 2, index.clamp(0, ctx.count - 1))
            return taken * inside.to(grad.dtype)

        grad_upper = take(k - low_at.unsqueeze(2) - ctx.first, low_on)  # d = k - low
        grad_lower = take(up_at.unsqueeze(2) - k - ctx.first, up_on)  # d = up - k
        return grad_upper, grad_lower, None, None


class Discriminator(nn.Module):
    """(B, V, K, Sp) prior and (B, V, K, Sc) candidate one-hots -> (B,) scores (higher: more real)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        c, sn = config.d_channels, config.spectral_norm
        self.embed = VoiceEmbedding(config.voices, config.vocab, config.embed_dim)
        stem_in = config.voices * config.embed_dim + 1
        self.intervals: nn.Module | None = None
        if config.d_intervals:
            view = IntervalFeatures(config)
            self.intervals = nn.Sequential(view, conv(view.channels, 32, 1, sn=sn))
            stem_in += 32 + config.voices
        self.stem = conv(stem_in, c // 2, 3, sn=sn)
        steps = config.prior_steps + config.continuation_steps
        layers: list[nn.Module] = []
        width = c // 2
        while steps > config.steps_per_bar // 2 and steps % 2 == 0:
            layers += [nn.LeakyReLU(0.2), conv(width, c, 4, 2, sn=sn)]
            width, steps = c, steps // 2
        self.body = nn.Sequential(*layers, ResBlock(c, sn=sn, norm=False), nn.LeakyReLU(0.2))
        extra = 1 if config.minibatch_std else 0
        self.head = conv(c + extra, c, 3, sn=sn)
        self.out: nn.Module = nn.Linear(c * steps, 1)
        # Tonal agreement: pitch-class profiles of prior and candidate, compared directly.
        folding = torch.zeros(config.vocab, 12)
        for token in range(2, config.vocab):
            folding[token, (config.lowest + token - 2) % 12] = 1.0
        self.register_buffer("folding", folding, persistent=False)
        self.tonal = nn.Sequential(nn.Linear(36, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1))
        if sn:
            self.out = nn.utils.parametrizations.spectral_norm(self.out)
            for i in (0, 2):
                self.tonal[i] = nn.utils.parametrizations.spectral_norm(self.tonal[i])

    def features(self, prior: torch.Tensor, candidate: torch.Tensor, group: int = 4) -> torch.Tensor:
        """The last hidden features, (B, c, S'), used for feature matching.

        ``group`` is the minibatch-spread group size: a divisor of the size of each batch
        that was concatenated into this one, so that groups never mix them.
        """
        pair = torch.cat([prior, candidate], dim=3)  # (B, V, K, Sp+Sc)
        x = self.embed(pair)  # (B, V*E, S)
        marker = torch.zeros_like(x[:, :1])
        marker[..., prior.shape[3] :] = 1.0
        parts = [x, marker]
        if self.intervals is not None:
            # Intervals of the candidate and the prior's last bar (the seam); the rest of the
            # prior is real music in every pair, so it is not worth the cost.
            start = max(0, prior.shape[3] - self.config.steps_per_bar)
            window = pair[..., start:]
            intervals = self.intervals(window).to(x.dtype)
            # How common each new note's pitch class is in the prior: a local sense of key.
            classes = torch.einsum("bvks,kp->bvps", window.float(), self.folding)
            in_key = torch.einsum("bvps,bp->bvs", classes, self.pitch_classes(prior) * 12).to(x.dtype)
            parts.append(nn.functional.pad(torch.cat([intervals, in_key], dim=1), (start, 0)))
        x = self.body(self.stem(torch.cat(parts, dim=1)))  # (B, c, S')
        if self.config.minibatch_std:
            x = torch.cat([x, minibatch_spread(x, group)], dim=1)
        return nn.functional.leaky_relu(self.head(x), 0.2)

    def pitch_classes(self, onehot: torch.Tensor) -> torch.Tensor:
        """(B, V, K, S) one-hots -> (B, 12) share of note onsets in each pitch class."""
        counts = torch.einsum("bvks,kp->bp", onehot.float(), self.folding)
        return counts / counts.sum(dim=1, keepdim=True).clamp_min(1.0)

    def score(self, features: torch.Tensor, prior: torch.Tensor, candidate: torch.Tensor) -> torch.Tensor:
        """The score from :meth:`features` and the pair's pitch-class profiles, (B,)."""
        a, b = self.pitch_classes(prior), self.pitch_classes(candidate)
        tonal = self.tonal(torch.cat([a, b, a * b * 12], dim=1).to(features.dtype))
        return (self.out(features.flatten(1)) + tonal).squeeze(1)

    def forward(self, prior: torch.Tensor, candidate: torch.Tensor, group: int = 4) -> torch.Tensor:
        return self.score(self.features(prior, candidate, group), prior, candidate)  # (B,)


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

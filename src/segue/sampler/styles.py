"""Which style of part music a context is most like, read from its notes.

A general model learns several corpora at once (chorales, masses, tunes). Its sampler's
calibration fits the moves its draws make to the training data's; pooled over the corpora, it
fits none of them: the general model's draws of chorale windows read 0.598 on the chorales'
choice half with the calibration pooled over the part music and 0.559 with one fitted on the
chorales alone (docs/experiments.md, 2026-12-05). A user's file names no style, so the sampler
reads one: :class:`StyleReader` is a multinomial logistic regression on a few summary figures of
the context (:func:`context_features`: how much each voice sounds and strikes, where in the bar
notes start, how often the voices strike together, each voice's register and steps), fitted on
training windows whose pieces name their style. It chooses a calibration, never a note.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from segue.music.tokens import FIRST_PITCH, REST

L2 = 1e-3
"""The weight of the squared weights in the reader's loss (on standardized features)."""


def context_features(context: torch.Tensor, positions: int) -> torch.Tensor:
    """(B, F) summary figures of each (B, V, S) token context, F = 5V + positions + 3: per voice
    the share of steps it sounds and strikes, its mean and spread of pitch and its mean step
    between notes (in tokens); the share of the notes struck at each position of the bar; how
    many voices sound, how many strike at a step where any does, and the share of such steps
    where more than one does."""
    batch, steps = context.shape[0], context.shape[-1]
    sounding = (context != REST).float()  # (B, V, S)
    strikes = context >= FIRST_PITCH
    struck = strikes.float()
    count = struck.sum(-1).clamp(min=1)  # (B, V)
    pitch = context.float() * struck
    mean = pitch.sum(-1) / count
    spread = ((pitch - mean[..., None]) ** 2 * struck).sum(-1).div(count).sqrt()
    # each voice's notes in order: the mean size of its steps from one note to the next
    last = torch.where(strikes, torch.arange(steps), -1).cummax(-1).values  # (B, V, S) last strike so far
    before = torch.cat([torch.full_like(last[..., :1], -1), last[..., :-1]], dim=-1)
    moves = strikes & (before >= 0)
    size = (context - context.gather(-1, before.clamp(min=0))).abs().float() * moves
    steps_between = size.sum(-1) / moves.sum(-1).clamp(min=1)
    at = torch.arange(steps) % positions
    where = torch.zeros(batch, positions).index_add_(1, at, struck.sum(1))  # (B, P)
    where = where / where.sum(-1, keepdim=True).clamp(min=1)
    striking = struck.sum(1)  # (B, S) voices striking at each step
    any_strike = (striking > 0).float()
    onsets = any_strike.sum(-1).clamp(min=1)
    together = torch.stack(
        [
            sounding.amax(-1).sum(-1),  # voices that sound at all
            striking.sum(-1) / onsets,
            (striking > 1).float().sum(-1) / onsets,
        ],
        dim=-1,
    )
    per_voice = [sounding.mean(-1), struck.mean(-1), mean, spread, steps_between]
    return torch.cat([*per_voice, where, together], dim=-1)


class StyleReader:
    """A multinomial logistic regression from :func:`context_features` to one of ``names``
    (the styles whose part music has a calibration of its own)."""

    def __init__(
        self,
        names: Sequence[str],
        weight: torch.Tensor,
        bias: torch.Tensor,
        mean: torch.Tensor,
        scale: torch.Tensor,
        positions: int,
    ) -> None:
        names = [str(n) for n in names]
        if len(names) < 2 or len(set(names)) != len(names) or any(not n or "." in n for n in names):
            raise ValueError("a style reader needs two or more distinct names without dots")
        features = weight.shape[-1] if weight.dim() == 2 else -1
        if weight.shape != (len(names), features) or bias.shape != (len(names),):
            raise ValueError(f"a style reader of {len(names)} styles needs weight (K, F) and bias (K,)")
        if mean.shape != (features,) or scale.shape != (features,) or bool((scale <= 0).any()):
            raise ValueError("a style reader's mean and scale must be (F,), its scale positive")
        self.names = names
        self.weight, self.bias, self.mean, self.scale = weight, bias, mean, scale
        self.positions = positions

    def logits(self, context: torch.Tensor) -> torch.Tensor:
        """(B, K) the styles' logits for each (B, V, S) context."""
        features = context_features(context.cpu(), self.positions)
        if features.shape[-1] != self.mean.shape[0]:
            raise ValueError(f"a style reader of {self.mean.shape[0]} features got {features.shape[-1]}")
        return ((features - self.mean) / self.scale) @ self.weight.T + self.bias

    def __call__(self, context: torch.Tensor) -> torch.Tensor:
        """(B,) the index into ``names`` of each context's most likely style."""
        return self.logits(context).argmax(-1)

    def tensors(self) -> dict[str, torch.Tensor]:
        return {"weight": self.weight, "bias": self.bias, "mean": self.mean, "scale": self.scale}

    @classmethod
    def fit(
        cls, contexts: torch.Tensor, labels: torch.Tensor, names: Sequence[str], positions: int
    ) -> StyleReader:
        """The reader fitted on (B, V, S) ``contexts`` of the styles ``labels`` (B,) name (indices
        into ``names``), each style weighed alike whatever its count; deterministic."""
        features = context_features(contexts, positions)  # (B, F)
        mean = features.mean(0)
        scale = features.std(0).clamp(min=1e-3)
        x = (features - mean) / scale
        counts = torch.bincount(labels, minlength=len(names)).float().clamp(min=1)
        sample_weight = (1 / counts)[labels] * len(labels) / len(names)  # (B,)
        weight = torch.zeros(len(names), x.shape[1], requires_grad=True)
        bias = torch.zeros(len(names), requires_grad=True)
        optimizer = torch.optim.LBFGS([weight, bias], max_iter=200, line_search_fn="strong_wolfe")

        def loss() -> torch.Tensor:
            optimizer.zero_grad()
            nll = torch.nn.functional.cross_entropy(x @ weight.T + bias, labels, reduction="none")
            value = (nll * sample_weight).mean() + L2 * (weight**2).sum()
            value.backward()
            return value

        optimizer.step(loss)
        return cls(names, weight.detach(), bias.detach(), mean, scale, positions)

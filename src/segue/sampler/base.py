"""What every sampler does, and the plain one.

A sampler turns the generator's (B, V, K, S) logits into (B, V, S) tokens. The plain sampler
draws every (voice, step) cell on its own from the softmax (the forward value of the
straight-through estimator G is trained with); :class:`segue.sampler.voiceleading.VoiceLeadingSampler`
draws each voice's line as a whole. Samplers are swapped by assigning ``model.sampler``.
"""

from __future__ import annotations

from typing import Protocol

import torch

from segue.models.blocks import sample_tokens
from segue.models.generator import VoiceLogits
from segue.sampler.rhythm import Choice


class Sampler(Protocol):
    """Draws tokens from the generator's logits; ``rhythm``: the choice among several draws of
    each window that the continuation makes with it (None: one draw)."""

    rhythm: Choice | None

    def draw(
        self,
        logits: torch.Tensor | VoiceLogits,
        context: torch.Tensor,
        rng: torch.Generator,
        temperature: float = 1.0,
        history: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """(B, V, S) tokens from (B, V, K, S) logits written from the (B, V, S') ``context``, or
        from a generator that writes its voices from the top (:data:`VoiceLogits`: asked for each
        voice's logits once the voices above it are drawn); ``history``: every token before the
        drawn ones (default: the context)."""
        ...


class PlainSampler:
    """Every cell drawn on its own from softmax(logits / temperature)."""

    rhythm: Choice | None = None  # one draw of each window

    def draw(
        self,
        logits: torch.Tensor | VoiceLogits,
        context: torch.Tensor,
        rng: torch.Generator,
        temperature: float = 1.0,
        history: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """(B, V, S) tokens, each cell drawn alone (voice after voice from the top, for
        :data:`VoiceLogits`); the context is not read."""
        if not callable(logits):
            return sample_tokens(logits.float() / temperature, rng)
        drawn: list[torch.Tensor] = []
        for v in range(context.shape[1]):
            voice = logits(v, torch.stack(drawn, dim=1) if drawn else None)  # (B, K, S)
            drawn.append(sample_tokens(voice.float().unsqueeze(1) / temperature, rng)[:, 0])
        return torch.stack(drawn, dim=1)

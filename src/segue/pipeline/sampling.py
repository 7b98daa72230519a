"""Autoregressive continuation: each generated stretch becomes part of the next context.

R[0..P] -> F -> F -> F ...: the generator writes C bars from the last P bars (the context),
those C bars are appended, and the last P bars of the result are the next context, for any
number of bars. The sampler (:mod:`segue.sampler`) turns each step's logits into tokens. All
randomness comes from an explicit ``torch.Generator``.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from segue.metrics import pitch_class_profile
from segue.models import Generator
from segue.models.blocks import onehot
from segue.models.generator import VoiceLogits
from segue.music.tokens import from_tokens
from segue.pipeline.arrange import CHORD_BARS
from segue.sampler import PlainSampler, Sampler


def latent(batch: int, dim: int, rng: torch.Generator, truncation: float | None = None) -> torch.Tensor:
    """Normal noise z of shape (batch, dim); with ``truncation`` T, values beyond ±T are redrawn."""
    z = torch.randn(batch, dim, generator=rng, device=rng.device)  # on the generator's device
    if truncation is not None:
        if truncation <= 0:
            raise ValueError("truncation must be positive")
        outside = z.abs() > truncation
        while outside.any():
            z[outside] = torch.randn(int(outside.sum()), generator=rng, device=rng.device)
            outside = z.abs() > truncation
    return z


KEY_SMOOTHING = 0.02
"""Added to every pitch class's share of the prime before the key prior takes its logarithm."""


def key_bias(profile: np.ndarray, lowest: int, vocab: int, strength: float) -> torch.Tensor:
    """(vocab,) logit offsets that make pitches whose class the prime hardly sounds less likely:
    ``strength`` times the log of each class's share of the prime's sounding time (``profile``,
    12 weights, C first) over the largest share, smoothed by :data:`KEY_SMOOTHING`; 0 for rests
    and holds. A product of the generator's draw and a prior on the key ("respect my key")."""
    share = np.asarray(profile, dtype=np.float64)
    share = share / share.sum() if share.sum() else np.full(12, 1 / 12)
    prior = np.log((share + KEY_SMOOTHING) / (share.max() + KEY_SMOOTHING))
    bias = np.zeros(vocab)
    bias[2:] = strength * prior[(lowest + np.arange(vocab - 2)) % 12]
    return torch.tensor(bias, dtype=torch.float32)


def key_profiles(primes: np.ndarray, lowest: int, bar_steps: int) -> np.ndarray:
    """(W, 12) each pitch class's share of the sounding time of the last
    :data:`~segue.pipeline.arrange.CHORD_BARS` bars of each of the (W, V, S) token primes: the
    profile :func:`key_bias` reads, as ``segue generate`` takes it from a file's prime
    (:func:`~segue.pipeline.arrange.prime_profile`)."""
    last = primes[:, :, -CHORD_BARS * bar_steps :]
    return np.stack([pitch_class_profile(from_tokens(prime, lowest)) for prime in last])


def key_biases(profiles: np.ndarray, lowest: int, vocab: int, strength: float) -> torch.Tensor:
    """(W, vocab) :func:`key_bias` of each of (W, 12) profiles."""
    return torch.stack([key_bias(profile, lowest, vocab, strength) for profile in profiles])


def _biased(logits: torch.Tensor | VoiceLogits, bias: torch.Tensor) -> torch.Tensor | VoiceLogits:
    """The logits (B, V, K, S) (or a voice head's (B, K, S), voice by voice) plus a (K,) offset per
    token, or a (B, K) one per window."""
    rows = bias.reshape(-1, bias.shape[-1])  # (1 or B, K)
    if not callable(logits):
        return logits + rows[:, None, :, None].to(logits.device, logits.dtype)
    voice = logits
    return lambda v, above: (out := voice(v, above)) + rows[:, :, None].to(out.device, out.dtype)


@torch.no_grad()
def continue_tokens(
    generator: Generator,
    context: torch.Tensor,
    bars: int,
    rng: torch.Generator,
    truncation: float | None = None,
    temperature: float = 1.0,
    sampler: Sampler | None = None,
    bias: torch.Tensor | None = None,
) -> torch.Tensor:
    """Continue (B, V, Sp) context tokens by ``bars`` bars; returns (B, V, bars * steps_per_bar).

    The ``sampler`` draws each step's tokens from the generator's logits (default: the plain
    draw, the forward value of the straight-through estimator used in training); a
    ``temperature`` below 1 sharpens the softmax (fewer unlikely notes), above 1 flattens it;
    ``bias`` (K,) is added to every cell's logits, or (B, K) to each window's (:func:`key_bias`).
    A sampler with a rhythm choice (:mod:`segue.sampler.rhythm`) draws several candidates of each
    window and keeps one of them, at every chunk.
    """
    if temperature <= 0:
        raise ValueError("temperature must be positive")
    config = generator.config
    if context.shape[1:] != (config.voices, config.context_steps):
        raise ValueError(f"the context must have shape (B, {config.voices}, {config.context_steps})")
    sampler = sampler if sampler is not None else PlainSampler()
    device = next(generator.parameters()).device
    choice = sampler.rhythm
    copies = 1 if choice is None else choice.draws  # candidates of each window, side by side
    history = context.long().to(device).repeat_interleave(copies, dim=0)  # the context, then all drawn
    if bias is not None and bias.dim() == 2:
        bias = bias.repeat_interleave(copies, dim=0)
    written = []
    for _ in range(math.ceil(bars / config.continuation_bars)):
        z = latent(len(history), config.z_dim, rng, truncation).to(device)
        window = history[:, :, -config.context_steps :]
        logits = generator.writer(onehot(window, config.vocab), z)
        if bias is not None:
            logits = _biased(logits, bias)
        step = sampler.draw(logits, window, rng, temperature, history)
        if choice is not None:
            step = choice.choose(step, config.vocab - 2, rng, window)  # (B, V, S): one candidate each
        written.append(step)
        history = torch.cat([history, step.repeat_interleave(copies, dim=0)], dim=2)
    return torch.cat(written, dim=2)[:, :, : bars * config.steps_per_bar].cpu()

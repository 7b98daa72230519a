"""Building blocks shared by the generator, the conditioner and the discriminator.

Tensors are laid out as (batch, channels, steps): voices and their token embeddings
are folded into channels and time runs along the last axis, so every layer is a 1-d
convolution over time (dense in channels, cheap on CPUs).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


class VoiceEmbedding(nn.Module):
    """Embed one-hot tokens per voice: (B, V, K, S) -> (B, V * E, S).

    Each voice has its own table (a grouped 1x1 convolution), so the soprano's C4 and
    the bass's C4 can differ. Works on straight-through one-hots, so gradients reach G.
    """

    def __init__(self, voices: int, vocab: int, dim: int) -> None:
        super().__init__()
        self.table = nn.Conv1d(voices * vocab, voices * dim, 1, groups=voices, bias=False)

    def forward(self, onehot: torch.Tensor) -> torch.Tensor:
        batch, voices, vocab, steps = onehot.shape
        return self.table(onehot.reshape(batch, voices * vocab, steps))  # (B, V*E, S)


def conv(cin: int, cout: int, kernel: int = 3, stride: int = 1, sn: bool = False) -> nn.Module:
    """A 1-d convolution with 'same' padding, optionally spectrally normalized."""
    layer = nn.Conv1d(cin, cout, kernel, stride=stride, padding=(kernel - stride) // 2)
    return spectral_norm(layer) if sn else layer


class ConvBlock(nn.Module):
    """conv -> GroupNorm -> LeakyReLU, (B, Cin, S) -> (B, Cout, S / stride)."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, stride: int = 1) -> None:
        super().__init__()
        self.conv = conv(cin, cout, kernel, stride)
        self.norm = nn.GroupNorm(min(8, cout), cout)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.norm(self.conv(x)))


class ResBlock(nn.Module):
    """A residual pair of convolutions at constant width and length."""

    def __init__(self, channels: int, sn: bool = False, norm: bool = True) -> None:
        super().__init__()
        self.conv1 = conv(channels, channels, 3, sn=sn)
        self.conv2 = conv(channels, channels, 3, sn=sn)
        self.norm1: nn.Module = nn.GroupNorm(8, channels) if norm else nn.Identity()
        self.norm2: nn.Module = nn.GroupNorm(8, channels) if norm else nn.Identity()
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(self.act(self.norm1(x)))
        h = self.conv2(self.act(self.norm2(h)))
        return x + h


def straight_through_gumbel(
    logits: torch.Tensor, tau: float, rng: torch.Generator | None = None
) -> torch.Tensor:
    """Sample one-hots from ``softmax(logits)`` along axis 2 (tokens), differentiably.

    The forward value is an exact one-hot (so the discriminator never sees soft
    values); the backward pass uses the gradient of the Gumbel-softmax relaxation at
    temperature ``tau`` (straight-through Gumbel-softmax, Jang et al. 2017).
    """
    soft = torch.softmax((logits.float() + gumbel_noise(logits, rng)) / tau, dim=2)
    hard = torch.zeros_like(soft).scatter_(
        2, soft.max(2, keepdim=True).indices, 1.0
    )  # max: faster than argmax
    return hard - soft.detach() + soft


def gumbel_noise(like: torch.Tensor, rng: torch.Generator | None = None) -> torch.Tensor:
    """Standard Gumbel noise of ``like``'s shape, float32, on its device."""
    where = rng.device if rng is not None else like.device
    uniform = torch.rand(like.shape, generator=rng, device=where).to(like.device)
    return -torch.log((-torch.log(uniform.clamp_min(1e-10))).clamp_min(1e-10))


def sample_tokens(logits: torch.Tensor, rng: torch.Generator | None = None) -> torch.Tensor:
    """Draw tokens from ``softmax(logits)`` along axis 2 (the Gumbel-max trick): (B, V, K, S) -> (B, V, S).

    The same draw as the forward value of :func:`straight_through_gumbel`, without its gradient.
    """
    return (logits.float() + gumbel_noise(logits, rng)).max(2).indices


def onehot(tokens: torch.Tensor, vocab: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(B, V, S) tokens -> (B, V, K, S) one-hots."""
    out = torch.zeros(*tokens.shape[:2], vocab, tokens.shape[2], dtype=dtype, device=tokens.device)
    return out.scatter_(2, tokens.unsqueeze(2), 1.0)

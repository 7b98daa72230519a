"""An autoregressive LSTM over voice tokens: the maximum-likelihood baseline.

A (V, S) token grid is read step by step and, within a step, voice by voice (soprano
first), as one sequence of V * S tokens. Each token is predicted from everything
before it, so the model can make the alto fit the soprano it has just written. Input at
position i: the embedding of token i - 1 (a start token at i = 0) plus the embedding
of voice i mod V, the voice about to be written.
"""

from __future__ import annotations

import torch
from torch import nn

from segue.models.config import LSTMConfig
from segue.music.tokens import HOLD, REST

__all__ = ["LSTMConfig", "TokenLSTM"]


class TokenLSTM(nn.Module):
    """Next-token model over interleaved voice tokens."""

    def __init__(self, config: LSTMConfig) -> None:
        super().__init__()
        self.config = config  # its sizes were checked when it was made
        self.tokens = nn.Embedding(config.vocab + 1, config.embed)  # + the start token
        self.voices = nn.Embedding(config.voices, config.embed)
        dropout = config.dropout if config.layers > 1 else 0.0
        self.lstm = nn.LSTM(config.embed, config.hidden, config.layers, batch_first=True, dropout=dropout)
        self.out = nn.Linear(config.hidden, config.vocab)

    def _inputs(self, previous: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        return self.tokens(previous) + self.voices(positions % self.config.voices)

    def forward(self, grid: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits for every token of (B, V, S) grids: (B, V, S, vocab)."""
        batch, voices, steps = grid.shape
        flat = grid.transpose(1, 2).reshape(batch, steps * voices)
        start = torch.full((batch, 1), self.config.vocab, dtype=flat.dtype, device=flat.device)
        previous = torch.cat([start, flat[:, :-1]], dim=1)
        positions = torch.arange(flat.shape[1], device=flat.device).expand(batch, -1)
        hidden, _ = self.lstm(self._inputs(previous, positions))
        logits = self.out(hidden)  # (B, S * V, vocab)
        return logits.reshape(batch, steps, voices, -1).transpose(1, 2)

    @torch.no_grad()
    def continue_tokens(
        self, prime: torch.Tensor, steps: int, generator: torch.Generator, temperature: float = 1.0
    ) -> torch.Tensor:
        """Sample ``steps`` steps after (B, V, Sp) prime tokens: (B, V, steps).

        A hold is never drawn where the voice's last token was a rest (it would mean
        nothing); the draw comes from the softmax at ``temperature``, on the CPU
        generator ``generator``.
        """
        batch, voices, prime_steps = prime.shape
        device = next(self.parameters()).device
        flat = prime.transpose(1, 2).reshape(batch, prime_steps * voices).to(device)
        start = torch.full((batch, 1), self.config.vocab, dtype=torch.long, device=device)
        previous = torch.cat([start, flat], dim=1)
        positions = torch.arange(previous.shape[1], device=device).expand(batch, -1)
        hidden, state = self.lstm(self._inputs(previous, positions))
        logits = self.out(hidden[:, -1])
        last = prime[:, :, -1].clone().to(device)  # each voice's latest token
        out = torch.empty(batch, voices, steps, dtype=torch.long)
        position = previous.shape[1]
        for t in range(steps):
            for v in range(voices):
                scores = logits.float() / temperature
                scores[:, HOLD] = torch.where(last[:, v] == REST, float("-inf"), scores[:, HOLD])
                probs = torch.softmax(scores, dim=-1).cpu()
                token = torch.multinomial(probs, 1, generator=generator)[:, 0]
                out[:, v, t] = token
                token = token.to(device)
                last[:, v] = token
                voice = torch.full((batch, 1), position, device=device)
                hidden, state = self.lstm(self._inputs(token[:, None], voice), state)
                logits = self.out(hidden[:, -1])
                position += 1
        return out

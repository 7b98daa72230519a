"""Maximum-likelihood training of the autoregressive LSTM baseline.

The same windows the GAN trains on (P + C bars from the train split, transposed at
random), read as whole sequences with teacher forcing; token cross-entropy, Adam,
gradient clipping and a cosine learning-rate decay.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from segue.models.config import LSTMConfig, ModelConfig
from segue.models.lstm import TokenLSTM
from segue.music.piece import Piece
from segue.training.windows import WindowSampler


def lstm_loss(net: TokenLSTM, grid: torch.Tensor) -> torch.Tensor:
    """Mean token cross-entropy (nats) of (B, V, S) grids under ``net``."""
    logits = net(grid)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), grid.reshape(-1))


def train_lstm(
    pieces: Sequence[Piece],
    model_config: ModelConfig,
    config: LSTMConfig,
    *,
    steps: int = 3000,
    batch_size: int = 32,
    lr: float = 2e-3,
    max_transpose: int = 5,
    seed: int = 0,
    valid: Sequence[Piece] = (),
    progress: bool = True,
) -> tuple[TokenLSTM, dict[str, float]]:
    """Train a :class:`TokenLSTM` on windows of ``pieces``; returns it and its final losses."""
    from tqdm import tqdm

    torch.manual_seed(seed)
    data_rng = torch.Generator().manual_seed(seed)
    sampler = WindowSampler(pieces, model_config, max_transpose)
    net = TokenLSTM(config)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * min(step / steps, 1.0)))
    )
    net.train()
    running = float("nan")
    bar = tqdm(range(steps), disable=not progress, unit="step", dynamic_ncols=True)
    for _ in bar:
        prior, continuation = sampler.sample(batch_size, data_rng)
        loss = lstm_loss(net, torch.cat([prior, continuation], dim=2))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        running = loss.item() if math.isnan(running) else 0.98 * running + 0.02 * loss.item()
        bar.set_postfix(loss=f"{running:.3f}")
    net.eval()
    result = {"train_loss": running}
    if valid:
        windows = WindowSampler(valid, model_config, 0)
        with torch.no_grad():
            losses = [
                lstm_loss(net, torch.cat(windows.windows(torch.arange(i, min(i + 64, len(windows)))), 2))
                for i in range(0, len(windows), 64)
            ]
        result["valid_loss"] = float(torch.stack(losses).mean())
    return net, result

"""Sample continuations during training: MIDI, and a picture per prime when a ``picture``
function is given (``segue train`` draws piano rolls)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from segue.models import Generator
from segue.music.midi import write_midi
from segue.music.piece import Piece
from segue.pipeline.pieces import prime_tokens, tokens_to_piece
from segue.pipeline.sampling import continue_tokens

Picture = Callable[[Piece, Path, int, str], object]
"""Draws a piece into a file, the seam at a step, with a title."""


def write_samples(
    generator: Generator,
    pieces: Sequence[Piece],
    folder: Path,
    seed: int = 0,
    bars: int | None = None,
    picture: Picture | None = None,
) -> list[Path]:
    """Continue the first P bars of each piece and write ``NAME.mid`` (and ``NAME.png``)."""
    config = generator.config
    bars = bars or config.continuation_bars
    primes = [(p, t) for p in pieces if (t := prime_tokens(p, generator)) is not None]
    if not primes:
        return []
    context = torch.from_numpy(np.stack([t for _, t in primes]))
    was_training = generator.training
    generator.eval()
    out = continue_tokens(generator, context, bars, torch.Generator().manual_seed(seed)).numpy()
    generator.train(was_training)
    written = []
    for (piece, tokens), continuation in zip(primes, out):
        whole = tokens_to_piece(np.concatenate([tokens, continuation], axis=1), generator, piece, piece.name)
        written.append(write_midi(whole, folder / f"{piece.name}.mid"))
        if picture is not None:
            title = f"{piece.name}: {config.context_bars} bars of prime, {bars} generated"
            picture(whole, folder / f"{piece.name}.png", config.context_steps, title)
            written.append(folder / f"{piece.name}.png")
    return written

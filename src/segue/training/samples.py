"""Sample continuations during training: MIDI and a piano-roll PNG per prime."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from segue.data.windows import piece_tokens
from segue.models import Generator
from segue.music.midi import write_midi
from segue.music.piece import Meter, Part, Piece
from segue.music.tokens import from_tokens
from segue.render import plot_pianoroll
from segue.sampling import continue_tokens


def prime_tokens(piece: Piece, generator_net: Generator) -> np.ndarray | None:
    """The first P complete bars of ``piece`` as (V, Sp) tokens, or None if it is too short."""
    config = generator_net.config
    grid = piece_tokens(piece, config)
    start = piece.first_bar * config.steps_per_bar
    prior = grid[:, start : start + config.prior_steps]
    return prior if prior.shape[1] == config.prior_steps else None


def tokens_to_piece(
    tokens: np.ndarray, generator_net: Generator, like: Piece | None = None, name: str = ""
) -> Piece:
    """A piece from (V, S) tokens, in the model's meter, with ``like``'s tempo and key."""
    config = generator_net.config
    numerator, denominator = (int(x) for x in config.meter.split("/"))
    return Piece(
        notes=from_tokens(tokens, config.lowest),
        parts=tuple(Part(n, 52) for n in config.voice_names),
        meter=Meter(numerator, denominator),
        steps_per_beat=config.steps_per_beat,
        tempos=like.tempos if like is not None else ((0, 750_000),),
        keys=like.keys if like is not None else (),
        name=name,
    )


def write_samples(
    generator_net: Generator, pieces: Sequence[Piece], folder: Path, seed: int = 0, bars: int | None = None
) -> list[Path]:
    """Continue the first P bars of each piece and write ``NAME.mid`` and ``NAME.png``."""
    config = generator_net.config
    bars = bars or config.continuation_bars
    primes = [(p, t) for p in pieces if (t := prime_tokens(p, generator_net)) is not None]
    if not primes:
        return []
    prior = torch.from_numpy(np.stack([t for _, t in primes]))
    was_training = generator_net.training
    generator_net.eval()
    out = continue_tokens(generator_net, prior, bars, torch.Generator().manual_seed(seed)).numpy()
    generator_net.train(was_training)
    written = []
    for (piece, tokens), continuation in zip(primes, out):
        whole = tokens_to_piece(
            np.concatenate([tokens, continuation], axis=1), generator_net, piece, piece.name
        )
        written.append(write_midi(whole, folder / f"{piece.name}.mid"))
        written.append(
            plot_pianoroll(
                whole,
                folder / f"{piece.name}.png",
                seam=config.prior_steps,
                title=f"{piece.name}: {config.prior_bars} bars of prime, {bars} generated",
            )
        )
    return written

"""Pieces and the model's tokens: a piece on the model's grid, its first context, and a piece
made back from tokens in the model's meter."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np

from segue.models import Generator
from segue.models.config import ModelConfig
from segue.music.piece import Meter, Part, Piece
from segue.music.tokens import from_tokens, to_tokens
from segue.music.voices import split_voices


def piece_tokens(piece: Piece, config: ModelConfig, counts: Counter[str] | None = None) -> np.ndarray:
    """A piece's tokens, (V, bars * steps_per_bar), from its first bar line (pickup bar included)."""
    n_steps = piece.n_bars * config.steps_per_bar
    return to_tokens(piece.notes, config.voices, n_steps, config.lowest, config.highest, counts)


def complete_bar_tokens(piece: Piece, config: ModelConfig, counts: Counter[str] | None = None) -> np.ndarray:
    """:func:`piece_tokens` up to the piece's last complete bar: a final bar cut short (the rest of
    a pickup) would read as a bar that ends in rests, and a model trained on it ends its
    continuations so (docs/experiments.md, 2026-12-06)."""
    bars = piece.first_bar + piece.complete_bars
    return piece_tokens(piece, config, counts)[:, : bars * config.steps_per_bar]


def as_voices(piece: Piece, config: ModelConfig) -> Piece:
    """The piece with one track per model voice: as it is if its tracks already are the
    voices, else its pitched tracks (drums left out) split by :func:`segue.music.voices.split_voices`
    (a single melodic line: the top voice, the others silent)."""
    drums = [i for i, part in enumerate(piece.parts) if part.is_drum]
    if len(piece.parts) == config.voices and not drums:
        return piece
    notes = piece.notes[~np.isin(piece.notes["track"], drums)] if drums else piece.notes
    centres = np.linspace(config.highest - 8, config.lowest + 8, config.voices).tolist()
    split = split_voices(notes, config.voices, piece.n_bars * piece.bar_steps, centres)
    parts = tuple(Part(name) for name in config.voice_names)
    return replace(piece, notes=split.notes, parts=parts)


def on_grid(piece: Piece, config: ModelConfig) -> Piece | None:
    """The piece in the model's meter and grid: as it is when it has them; relabelled when it
    counts the same beats at another note value on a grid of as many steps a bar (4/2 at 2
    steps per quarter note is 4/4 at 4, 3/8 at 4 is 3/4 at 2); else None."""
    if str(piece.meter) == config.meter and piece.steps_per_beat == config.steps_per_beat:
        return piece
    return cut_bars(piece, config) if piece.bar_steps == config.steps_per_bar else None  # one bar a bar


def cut_bars(piece: Piece, config: ModelConfig) -> Piece | None:
    """The piece in the model's shorter bars: when each of its bars holds a whole number of the
    model's, counted in beats of as many steps (4/4 or 4/2 at 2 steps per quarter note cut into
    2/4 bars, 12/8 into 6/8), the same notes relabelled in the model's meter and grid, its
    pickup what is left of it in the shorter bar; else None (a builder's option, for a model
    whose meter has little data of its own)."""
    numerator, denominator = (int(x) for x in config.meter.split("/"))
    bar, whole = config.steps_per_bar, piece.bar_steps
    if whole % bar or piece.meter.numerator % numerator or whole // piece.meter.numerator != bar // numerator:
        return None
    return replace(
        piece,
        meter=Meter(numerator, denominator),
        steps_per_beat=config.steps_per_beat,
        pickup=piece.pickup % bar,
    )


def prime_tokens(piece: Piece, generator: Generator) -> np.ndarray | None:
    """The first P complete bars of ``piece`` as (V, Sp) tokens, or None if it is too short."""
    config = generator.config
    grid = piece_tokens(piece, config)
    start = piece.first_bar * config.steps_per_bar
    context = grid[:, start : start + config.context_steps]
    return context if context.shape[1] == config.context_steps else None


def tokens_to_piece(
    tokens: np.ndarray, generator: Generator, like: Piece | None = None, name: str = ""
) -> Piece:
    """A piece from (V, S) tokens, in the model's meter, with ``like``'s tempo and key."""
    config = generator.config
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

"""A file's prime on the model's voices: its notes split into the model's voices and transposed
by the shift that puts each voice best into the range that voice had in the training data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segue.errors import SegueError
from segue.music.midi import FilePlace
from segue.music.piece import Piece
from segue.music.tokens import to_tokens
from segue.music.voices import split_voices
from segue.pipeline.arrange import waiting_parts
from segue.pipeline.model import SegueModel, VoiceRanges


def voice_centres(model: SegueModel) -> list[float]:
    """The middle pitch of each voice's range (from training, else the model's range)."""
    return [(low + high) / 2 for low, high in model.ranges()]


def best_shift(notes: np.ndarray, ranges: VoiceRanges) -> int:
    """The transposition in [-11, 12] that puts the voices' notes best into their ranges."""
    costs = []
    for shift in range(-11, 13):
        cost = 0
        for voice, (low, high) in enumerate(ranges):
            pitch = notes["pitch"][notes["track"] == voice].astype(np.int64) + shift
            cost += int(np.maximum(low - pitch, 0).sum() + np.maximum(pitch - high, 0).sum())
        costs.append((cost, abs(shift), shift))
    return min(costs)[2]


@dataclass(frozen=True)
class PrimeVoices:
    """The prime on the model's voices."""

    tokens: np.ndarray  # (V, cut_step) model tokens: transposed, and folded by octaves into range
    notes: np.ndarray  # the same notes as the file sounds them (``track``: the voice)
    sources: tuple[int, ...]  # each voice's source track in the file (-1: none)
    shift: int  # the transposition into the model's ranges
    rule: str  # the rule that split the voices


def prime_voices(piece: Piece, place: FilePlace, cut_step: int, model: SegueModel) -> PrimeVoices:
    """The prime's notes split into the model's voices, and as the model reads them."""
    config = model.config
    waiting = len(waiting_parts(piece, cut_step))
    split = split_voices(piece.notes, config.voices, cut_step, voice_centres(model), waiting)
    if not len(split.notes):
        raise SegueError(f"{piece.name}: the prime has no notes to continue")
    shift = best_shift(split.notes, model.ranges())
    notes = split.notes.copy()
    pitch = notes["pitch"].astype(np.int64) + shift
    while (pitch < config.lowest).any() or (pitch > config.highest).any():  # fold by octaves
        pitch = np.where(pitch < config.lowest, pitch + 12, pitch)
        pitch = np.where(pitch > config.highest, pitch - 12, pitch)
    notes["pitch"] = pitch
    tokens = to_tokens(notes, config.voices, cut_step, config.lowest, config.highest)
    sources = tuple(place.source_tracks[s] if s >= 0 else -1 for s in split.sources)
    return PrimeVoices(tokens, split.notes, sources, shift, split.rule)

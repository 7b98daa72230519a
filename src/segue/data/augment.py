"""Transposition augmentation, applied at load time (never stored on disk).

A piece may be shifted by ``k`` semitones only if every voice stays inside its
range, where a voice's range is the lowest and highest pitch it has anywhere in the
training data (so a transposed soprano never sings where no soprano sang).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

VoiceRanges = np.ndarray  # (tracks, 2) int: lowest and highest pitch of each track


def voice_ranges(pieces_notes: Iterable[np.ndarray], n_tracks: int) -> VoiceRanges:
    """The (lowest, highest) pitch of each track over many pieces' notes."""
    ranges = np.array([[127, 0]] * n_tracks, dtype=np.int64)
    for notes in pieces_notes:
        for track in range(n_tracks):
            pitches = notes["pitch"][notes["track"] == track]
            if len(pitches):
                ranges[track, 0] = min(ranges[track, 0], int(pitches.min()))
                ranges[track, 1] = max(ranges[track, 1], int(pitches.max()))
    return ranges


def allowed_shifts(notes: np.ndarray, ranges: VoiceRanges, max_shift: int = 6) -> list[int]:
    """Semitone shifts in ``[-max_shift, max_shift]`` that keep every voice in range."""
    low, high = -max_shift, max_shift
    for track in np.unique(notes["track"]):
        pitches = notes["pitch"][notes["track"] == track].astype(np.int64)
        low = max(low, int(ranges[track, 0] - pitches.min()))
        high = min(high, int(ranges[track, 1] - pitches.max()))
    return list(range(low, high + 1))


def transpose(notes: np.ndarray, shift: int) -> np.ndarray:
    """A copy of ``notes`` shifted by ``shift`` semitones (which must stay in 0..127)."""
    pitches = notes["pitch"].astype(np.int64) + shift
    if len(pitches) and (pitches.min() < 0 or pitches.max() > 127):
        raise ValueError(f"a shift of {shift} leaves the MIDI pitch range")
    shifted = notes.copy()
    shifted["pitch"] = pitches
    return shifted


def random_transpose(
    notes: np.ndarray, ranges: VoiceRanges, rng: np.random.Generator, max_shift: int = 6
) -> tuple[np.ndarray, int]:
    """Transpose by a shift drawn uniformly from :func:`allowed_shifts`; returns (notes, shift)."""
    shifts = allowed_shifts(notes, ranges, max_shift) or [0]
    shift = int(rng.choice(shifts))
    return transpose(notes, shift), shift

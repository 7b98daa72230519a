"""Monophonic voices as token grids: the form the models read and write.

Each voice (track) holds at most one note at a time. At each step a voice has one
token: ``REST``, ``HOLD`` (the note sounding at the previous step goes on) or a new
note of pitch ``lowest + token - FIRST_PITCH``. This is the frame and onset planes of a
monophonic roll folded into one categorical value per (voice, step), so a repeated
note of one pitch stays two notes.

Rules for notes a grid cannot hold (each counted by :func:`to_tokens`):

* ``chord_in_voice``: where a voice has two notes starting at once, the highest is
  kept (the lowest in the last voice, the bass, when there are several voices);
* ``cut_by_next``: a note still sounding when the voice's next note starts ends there;
* ``out_of_range``: notes outside ``[lowest, highest]`` are dropped;
* ``outside_grid``: notes of a track beyond the voices, or starting outside the steps,
  are dropped.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from segue.music.piece import empty_notes, sort_notes

REST = 0
HOLD = 1
FIRST_PITCH = 2


def vocabulary_size(lowest: int, highest: int) -> int:
    """Number of distinct tokens for the pitch range ``[lowest, highest]``."""
    return FIRST_PITCH + highest - lowest + 1


def to_tokens(
    notes: np.ndarray,
    n_voices: int,
    n_steps: int,
    lowest: int,
    highest: int,
    counts: Counter[str] | None = None,
) -> np.ndarray:
    """Tokens of shape (voices, steps), int64, from notes whose track is the voice."""
    counts = Counter() if counts is None else counts
    tokens = np.full((n_voices, n_steps), REST, dtype=np.int64)  # (V, S)
    inside = (notes["pitch"] >= lowest) & (notes["pitch"] <= highest)
    counts["out_of_range"] += int((~inside).sum())
    on_grid = (notes["track"] < n_voices) & (notes["onset"] < n_steps) & (notes["onset"] >= 0)
    counts["outside_grid"] += int((inside & ~on_grid).sum())
    notes = notes[inside & on_grid]
    for voice in range(n_voices):
        chunk = sort_notes(notes[notes["track"] == voice])
        if not len(chunk):
            continue
        # Of notes with one onset keep the highest (lowest in the bass): last (first) in sorted order.
        same_onset = np.diff(chunk["onset"]) == 0
        if same_onset.any():
            counts["chord_in_voice"] += int(same_onset.sum())
            keep = np.ones(len(chunk), bool)
            if voice == n_voices - 1 and n_voices > 1:
                keep[1:] = ~same_onset
            else:
                keep[:-1] = ~same_onset
            chunk = chunk[keep]
        onset = chunk["onset"].astype(np.int64)
        end = np.minimum(onset + chunk["duration"], n_steps)
        next_onset = np.append(onset[1:], n_steps)
        counts["cut_by_next"] += int((end > next_onset).sum())
        end = np.minimum(end, next_onset)
        lengths = end - onset
        # Every step each note lasts, then overwrite each onset with the note's pitch token.
        steps = np.repeat(onset - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        tokens[voice, steps] = HOLD
        tokens[voice, onset] = FIRST_PITCH + chunk["pitch"].astype(np.int64) - lowest
    return tokens


def from_tokens(tokens: np.ndarray, lowest: int, velocity: int = 80) -> np.ndarray:
    """Notes from tokens of shape (voices, steps); a HOLD after a rest is read as a rest."""
    tokens = np.asarray(tokens)
    n_voices, n_steps = tokens.shape
    voice, onset = np.nonzero(tokens >= FIRST_PITCH)
    if not len(onset):
        return empty_notes()
    # A note lasts from its onset through the HOLDs that follow it.
    holding = tokens == HOLD
    run_end = np.full((n_voices, n_steps + 1), n_steps, dtype=np.int64)
    for step in range(n_steps - 1, -1, -1):
        run_end[:, step] = np.where(holding[:, step], run_end[:, step + 1], step)
    notes = empty_notes(len(onset))
    notes["onset"] = onset
    notes["duration"] = run_end[voice, np.minimum(onset + 1, n_steps)] - onset
    notes["pitch"] = tokens[voice, onset] - FIRST_PITCH + lowest
    notes["velocity"] = velocity
    notes["track"] = voice
    return sort_notes(notes)


def seam_tail(tokens: np.ndarray) -> int:
    """How many of the last steps of (V, S) tokens decide what sounds at their end: from the
    earliest of the voices' last non-hold tokens. Decoding only that tail followed by more
    tokens gives the same notes from the seam on as decoding everything."""
    tokens = np.asarray(tokens)
    steps = tokens.shape[1]
    struck = tokens != HOLD
    last = np.where(struck.any(axis=1), steps - 1 - np.argmax(struck[:, ::-1], axis=1), 0)
    return int(steps - last.min()) if steps else 0

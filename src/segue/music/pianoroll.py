"""Piano rolls: notes ⇄ boolean arrays of shape (tracks, steps, pitches).

A roll has two planes: ``frames`` (a pitch sounds at this step) and ``onsets`` (a
note starts at this step). The onset plane is what lets two repeated notes of the
same pitch survive the round trip. ``from_pianoroll(to_pianoroll(p))`` gives back
every note's track, pitch, onset and duration exactly, provided the notes of one
pitch in one track do not overlap (which :func:`segue.music.quantize.resolve_overlaps`
guarantees for everything read from MIDI).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segue.music.piece import empty_notes, sort_notes

MAX_ROLL_CELLS = 1 << 30
"""Refuse to allocate a roll with more cells than this (1 GiB per plane)."""


@dataclass(frozen=True)
class Roll:
    """A multi-track piano roll.

    ``frames`` and ``onsets`` are bool arrays of shape (tracks, steps, pitches);
    pitch index ``i`` is MIDI pitch ``lowest + i``.
    """

    frames: np.ndarray
    onsets: np.ndarray
    lowest: int = 0

    def __post_init__(self) -> None:
        if self.frames.shape != self.onsets.shape or self.frames.ndim != 3:
            raise ValueError(
                f"frames {self.frames.shape} and onsets {self.onsets.shape} must share a 3-d shape"
            )

    @property
    def shape(self) -> tuple[int, int, int]:
        """(tracks, steps, pitches)."""
        tracks, steps, pitches = self.frames.shape
        return tracks, steps, pitches


def to_pianoroll(
    notes: np.ndarray,
    n_tracks: int,
    n_steps: int | None = None,
    lowest: int = 0,
    highest: int = 127,
) -> Roll:
    """Draw notes into a roll of ``n_steps`` steps (default: up to the last note's end).

    Notes outside the pitch range or starting at or after ``n_steps`` are left out;
    notes running past ``n_steps`` are cut there.
    """
    if n_steps is None:
        n_steps = int((notes["onset"] + notes["duration"]).max()) if len(notes) else 0
    n_pitches = highest - lowest + 1
    if n_pitches < 1 or n_steps < 0 or n_tracks < 0:
        raise ValueError("a roll needs a non-empty pitch range and non-negative sizes")
    if n_tracks * n_steps * n_pitches > MAX_ROLL_CELLS:
        raise ValueError(f"a roll of {n_tracks}x{n_steps}x{n_pitches} cells is too large")
    frames = np.zeros((n_tracks, n_steps, n_pitches), dtype=bool)  # (T, S, P)
    onsets = np.zeros_like(frames)
    if len(notes) and int(notes["track"].max()) >= n_tracks:
        raise ValueError(f"a note is on track {int(notes['track'].max())}, the roll has {n_tracks} tracks")
    pitch = notes["pitch"].astype(np.int64) - lowest
    onset = notes["onset"].astype(np.int64)
    keep = (pitch >= 0) & (pitch < n_pitches) & (onset >= 0) & (onset < n_steps)
    track, pitch, onset = notes["track"][keep].astype(np.int64), pitch[keep], onset[keep]
    end = np.minimum(onset + notes["duration"][keep], n_steps)
    onsets[track, onset, pitch] = True
    # Each note's frames: repeat its (track, pitch) once per step it lasts.
    lengths = end - onset
    steps = np.repeat(onset - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
    frames[np.repeat(track, lengths), steps, np.repeat(pitch, lengths)] = True
    return Roll(frames, onsets, lowest)


def from_pianoroll(roll: Roll, velocity: int = 80) -> np.ndarray:
    """Read notes back from a roll.

    A note starts where ``onsets`` is set on a sounding cell, or where a pitch starts
    sounding without an onset; it lasts while the pitch keeps sounding with no new
    onset. Onsets on silent cells are ignored.
    """
    frames = roll.frames.astype(bool)
    n_tracks, n_steps, _ = frames.shape
    previous = np.zeros_like(frames)
    previous[:, 1:] = frames[:, :-1]
    starts = frames & (roll.onsets.astype(bool) | ~previous)  # (T, S, P)
    track, onset, pitch = np.nonzero(starts)
    if not len(onset):
        return empty_notes()
    # Where each note ends: the next step that is silent or starts a new note.
    stops = ~frames | starts
    stops_t = np.concatenate([stops[:, 1:], np.ones((n_tracks, 1, frames.shape[2]), bool)], axis=1)
    # For each cell, the index of the next stop at or after it, scanning backwards in time.
    next_stop = np.where(stops_t, np.arange(n_steps)[None, :, None], n_steps)
    next_stop = np.minimum.accumulate(next_stop[:, ::-1], axis=1)[:, ::-1]
    notes = empty_notes(len(onset))
    notes["onset"] = onset
    notes["duration"] = next_stop[track, onset, pitch] - onset + 1
    notes["pitch"] = pitch + roll.lowest
    notes["velocity"] = velocity
    notes["track"] = track
    return sort_notes(notes)

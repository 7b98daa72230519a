"""Pure NumPy rules that put messy notes on a clean step grid.

Each rule counts what it changed, so that nothing is silently wrong:

* ``zero_length``: notes whose note-off is at their note-on tick are dropped.
* onsets and ends are rounded to the nearest step (halves round up); a note
  shorter than one step after rounding lasts one step (``stretched``).
* ``out_of_range``: pitches outside ``[lowest, highest]`` are dropped.
* same track, same pitch, overlapping: the earlier note is cut where the later one
  starts (``overlap_cut``); of notes with the same onset only the longest is kept
  (``duplicate``).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from segue.music.piece import sort_notes


def ticks_to_steps(ticks: np.ndarray, ticks_per_beat: int, steps_per_beat: int) -> np.ndarray:
    """Round tick times to the nearest step (halves up), exactly in integers."""
    scaled = np.asarray(ticks, dtype=np.int64) * (2 * steps_per_beat) + ticks_per_beat
    return scaled // (2 * ticks_per_beat)


def quantize(
    start: np.ndarray,
    duration: np.ndarray,
    ticks_per_beat: int,
    steps_per_beat: int,
    counts: Counter[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Quantize tick notes; returns (kept mask, onset steps, duration steps) of kept notes."""
    start = np.asarray(start, dtype=np.int64)
    duration = np.asarray(duration, dtype=np.int64)
    keep = duration > 0
    counts["zero_length"] += int((~keep).sum())
    onset = ticks_to_steps(start[keep], ticks_per_beat, steps_per_beat)
    end = ticks_to_steps(start[keep] + duration[keep], ticks_per_beat, steps_per_beat)
    short = end <= onset
    counts["stretched"] += int(short.sum())
    return keep, onset, np.where(short, 1, end - onset)


def drop_out_of_range(notes: np.ndarray, lowest: int, highest: int, counts: Counter[str]) -> np.ndarray:
    """Drop notes whose pitch lies outside ``[lowest, highest]``."""
    inside = (notes["pitch"] >= lowest) & (notes["pitch"] <= highest)
    counts["out_of_range"] += int((~inside).sum())
    return notes[inside]


def resolve_overlaps(notes: np.ndarray, counts: Counter[str]) -> np.ndarray:
    """Make notes of one pitch in one track never overlap (see the module rules)."""
    if len(notes) < 2:
        return notes
    order = np.lexsort((-notes["duration"].astype(np.int64), notes["onset"], notes["pitch"], notes["track"]))
    notes = notes[order]
    same_voice = (notes["track"][1:] == notes["track"][:-1]) & (notes["pitch"][1:] == notes["pitch"][:-1])
    duplicate = same_voice & (notes["onset"][1:] == notes["onset"][:-1])
    keep = np.ones(len(notes), dtype=bool)
    keep[1:] = ~duplicate
    counts["duplicate"] += int(duplicate.sum())
    notes = notes[keep]
    same_voice = (notes["track"][1:] == notes["track"][:-1]) & (notes["pitch"][1:] == notes["pitch"][:-1])
    gap = notes["onset"][1:] - notes["onset"][:-1]
    cut = same_voice & (notes["duration"][:-1] > gap)
    counts["overlap_cut"] += int(cut.sum())
    durations = notes["duration"].copy()
    durations[:-1] = np.where(cut, gap, durations[:-1])
    notes["duration"] = durations
    return sort_notes(notes)

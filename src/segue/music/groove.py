"""Drums that keep playing: the prime's groove goes on under the generated bars.

The model writes pitched voices only. Each drum track (MIDI channel 10) that plays in the
prime goes on by its *groove bar*: of the prime's last complete bars (up to
:data:`GROOVE_BARS`), the bar whose drum pattern (the drums struck and where, on the grid)
recurs most often, the latest among equals but the prime's last bar only when no earlier bar
is as common, so that a fill in the last bar does not become the groove. Every continued bar
gets that bar's hits, on the grid, with their velocities, and lengths cut at the bar line. A
drum track silent in those bars stays silent.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import symusic

from segue.music.midi import FilePlace
from segue.music.piece import Part, make_notes
from segue.music.splice import Addition

GROOVE_BARS = 4
"""How many of the prime's last bars are searched for the groove."""


def groove_additions(
    score: symusic.Score,
    place: FilePlace,
    cut_step: int,
    bar_steps: int,
    prime_bars: int,
    bars: int,
    steps_per_beat: int,
) -> list[Addition]:
    """The drum tracks of ``score`` continued for ``bars`` bars after the prime's end
    (``cut_step``, in the piece's steps; the prime holds ``prime_bars`` complete bars)."""
    out = []
    for index, track in enumerate(score.tracks):
        if not track.is_drum or not len(track.notes):
            continue
        columns = track.notes.numpy()
        starts = [cut_step - b * bar_steps for b in range(1, min(GROOVE_BARS, prime_bars) + 1)]
        groove = _most_common([_bar_hits(columns, place, s, bar_steps, steps_per_beat) for s in starts])
        if groove is None:
            continue
        onset, duration, pitch, velocity = groove
        notes = make_notes(
            (onset[None, :] + bar_steps * np.arange(bars)[:, None]).ravel(),
            np.tile(duration, bars),
            np.tile(pitch, bars),
            np.tile(velocity, bars),
        )
        out.append(Addition(notes, index, Part(str(track.name), int(track.program), True)))
    return out


Hits = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""A bar's drum hits: onsets (steps into the bar), lengths (steps), drums (MIDI pitches), velocities."""


def _bar_hits(
    columns: dict[str, np.ndarray], place: FilePlace, start: int, bar_steps: int, steps_per_beat: int
) -> Hits:
    """The hits (a track's note ``columns``, in ticks) that fall, once on the grid, in the bar
    beginning at the piece's step ``start``: a downbeat played a little early belongs to its bar."""
    first, last = place.tick_of(start, steps_per_beat), place.tick_of(start + bar_steps, steps_per_beat)
    step = (last - first) / bar_steps  # ticks per step
    grid = np.round((columns["time"] - first) / step).astype(np.int64)
    inside = (grid >= 0) & (grid < bar_steps)
    onset = grid[inside]
    length = np.maximum(np.round(columns["duration"][inside] / step), 1).astype(np.int64)
    order = np.lexsort((columns["pitch"][inside], onset))
    return (
        onset[order],
        np.minimum(length, bar_steps - onset)[order],
        columns["pitch"][inside][order].astype(np.int64),
        columns["velocity"][inside][order].astype(np.int64),
    )


def _most_common(bars: list[Hits]) -> Hits | None:
    """The hits of the bar (``bars``: the prime's last bar first) whose pattern recurs most; among
    equals the latest, but the prime's last bar only when no earlier bar is as common (a fill
    there is not taken for the groove); None when no bar has a hit."""
    patterns = [tuple(zip(h[0].tolist(), h[2].tolist())) for h in bars]
    counts = Counter(p for p in patterns if p)
    if not counts:
        return None
    candidates = [i for i, p in enumerate(patterns) if p]
    best = max(candidates, key=lambda i: (counts[patterns[i]], i > 0, -i))
    return bars[best]

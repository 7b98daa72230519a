"""Hypothesis strategies for random on-grid pieces."""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import strategies as st

from segue.music.piece import KeySignature, Meter, Part, Piece, make_notes
from segue.music.quantize import resolve_overlaps

METERS = [Meter(4, 4), Meter(3, 4), Meter(2, 4), Meter(6, 8), Meter(3, 2), Meter(7, 8), Meter(5, 4)]


@st.composite
def pieces(draw: st.DrawFn, max_tracks: int = 4, max_bars: int = 6, max_notes: int = 60) -> Piece:
    """A random piece whose notes are on the grid and never overlap on one pitch of one track.

    Its first note starts on the first downbeat (or where its pickup starts) and its notes
    reach the end of at least one complete bar, as the MIDI reader's rules expect.
    """
    meter = draw(st.sampled_from(METERS))
    bar = meter.bar_steps(4)
    n_tracks = draw(st.integers(1, max_tracks))
    n_bars = draw(st.integers(1, max_bars))
    pickup = draw(st.sampled_from([0, 0, *range(1, bar)]))
    start = bar - pickup if pickup else 0
    end = (n_bars + (1 if pickup else 0)) * bar
    n = draw(st.integers(0, max_notes))
    onset = draw(st.lists(st.integers(start, end - 1), min_size=n, max_size=n))
    duration = [draw(st.integers(1, max(1, end - o))) for o in onset]
    pitch = draw(st.lists(st.integers(0, 127), min_size=n, max_size=n))
    velocity = draw(st.lists(st.integers(1, 127), min_size=n, max_size=n))
    track = draw(st.lists(st.integers(0, n_tracks - 1), min_size=n, max_size=n))
    # Anchors: one note at the first step of the music and one reaching the end.
    anchor_pitch = draw(st.integers(0, 127))
    notes = make_notes(
        [*onset, start, end - 1],
        [*duration, 1, 1],
        [*pitch, anchor_pitch, anchor_pitch],
        [*velocity, 64, 64],
        [*track, 0, n_tracks - 1],
    )
    notes = resolve_overlaps(notes, Counter())
    parts = tuple(Part(f"voice {i}", draw(st.integers(0, 127))) for i in range(n_tracks))
    tempo_steps = sorted(set(draw(st.lists(st.integers(start + 1, end - 1), max_size=3))))  # once it plays
    tempos = (
        (0, draw(st.integers(200000, 1500000))),
        *tuple((s, draw(st.integers(200000, 1500000))) for s in tempo_steps),
    )
    key = KeySignature(draw(st.integers(-7, 7)), draw(st.booleans()))
    return Piece(notes, parts, meter, 4, pickup, tempos, ((0, key),))


def note_tuples(notes: np.ndarray, fields: tuple[str, ...] = ("track", "pitch", "onset", "duration")) -> list:
    """The notes as sorted tuples of the given fields."""
    return sorted(zip(*(notes[f].tolist() for f in fields)))


def example_pieces(count: int, seed: int = 0) -> list[Piece]:
    """Deterministic small pieces for tests that need data, not properties."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        n = int(rng.integers(4, 30))
        onset = np.sort(rng.integers(0, 32, n))
        onset[0] = 0
        notes = make_notes(onset, rng.integers(1, 8, n), rng.integers(40, 90, n), 80, rng.integers(0, 2, n))
        notes = make_notes(
            [*notes["onset"], 31], [*notes["duration"], 1], [*notes["pitch"], 60], 80, [*notes["track"], 0]
        )
        out.append(Piece(resolve_overlaps(notes, Counter()), (Part("a"), Part("b")), name=f"piece{i}"))
    return out

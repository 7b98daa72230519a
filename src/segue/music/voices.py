"""Map any music onto a fixed number of monophonic voices (for a four-voice model: S, A, T, B).

The rule, in order:

1. A single melodic line (one track, monophonic) is the first voice; the others are silent.
2. If the music has exactly as many tracks as there are voices and each track is
   (nearly) monophonic, tracks become voices by register: the track with the highest
   mean pitch is the first voice (soprano), the lowest the last (bass).
3. If it has fewer tracks than voices (two or more), each (nearly) monophonic, and the file
   has at least as many parts still to come in (``waiting``: parts that have not played yet)
   as voices would be left over, each track is the voice whose range centre lies nearest its
   mean pitch, keeping their order (a mass's cantus, tenor and bassus are voices 1, 3 and 4);
   the voices left over are silent, as a voice that has not come in yet is in the music the
   model learned, and free for the parts to come. Without such parts (a duet, a trio) the
   voices are not left free: a four-voice model would fill them, and write new parts.
4. Otherwise all notes are pooled and split step by step by register. At each step the
   sounding pitches are sorted from high to low. With more pitches than voices, the
   highest and the lowest are kept and the inner voices take evenly spaced pitches
   from between them. With fewer, each pitch goes to the voice whose last pitch (or,
   before it has sung, the centre of its range) is nearest, keeping the voices' order.
   A voice starts a new note where its pitch changes or where the source note starts.

Each voice remembers the source track that gave it the most notes, so that a
continuation can be written back into the same instruments.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from segue.music.piece import empty_notes, sort_notes

MONOPHONIC_SHARE = 0.95
"""A track counts as monophonic when at most one of its notes sounds at 95% of its sounding steps."""


@dataclass(frozen=True)
class VoiceSplit:
    """Notes whose ``track`` is the voice, and the source track of each voice (-1: none)."""

    notes: np.ndarray
    sources: tuple[int, ...]
    rule: str


def _polyphony(notes: np.ndarray, n_steps: int) -> np.ndarray:
    """Notes sounding at each step, (n_steps,)."""
    counts = np.zeros(n_steps + 1, dtype=np.int64)
    np.add.at(counts, np.clip(notes["onset"], 0, n_steps), 1)
    np.add.at(counts, np.clip(notes["onset"] + notes["duration"], 0, n_steps), -1)
    return np.cumsum(counts)[:n_steps]


def is_monophonic(notes: np.ndarray, n_steps: int) -> bool:
    """True when at most one note sounds at nearly every sounding step."""
    sounding = _polyphony(notes, n_steps)
    active = sounding > 0
    return bool(active.any()) and float((sounding[active] == 1).mean()) >= MONOPHONIC_SHARE


def split_voices(
    notes: np.ndarray, n_voices: int, n_steps: int, centres: list[float], waiting: int = 0
) -> VoiceSplit:
    """Split ``notes`` (any tracks) into ``n_voices`` voices over the first ``n_steps`` steps.

    ``centres`` holds the middle pitch of each voice's range, highest voice first; ``waiting``
    counts the parts of the file that have not played yet (voices may be left free for them).
    """
    notes = notes[notes["onset"] < n_steps]
    tracks = np.unique(notes["track"])
    if n_voices > 1 and len(tracks) == 1 and is_monophonic(notes, n_steps):
        line = _split_by_register(notes, 1, n_steps, centres[:1])
        return VoiceSplit(line.notes, line.sources + (-1,) * (n_voices - 1), "one line: the top voice")
    lines = len(tracks) == n_voices or (1 < len(tracks) < n_voices and n_voices - len(tracks) <= waiting)
    if lines and all(is_monophonic(notes[notes["track"] == t], n_steps) for t in tracks):
        means = [float(notes["pitch"][notes["track"] == t].mean()) for t in tracks]
        order = [int(tracks[i]) for i in np.argsort(means)[::-1]]  # highest track first
        places = _nearest_voices(sorted(means, reverse=True), centres)  # each track's voice, in order
        voice_of = dict(zip(order, places))
        track_of = dict(zip(places, order))
        voiced = notes.copy()
        voiced["track"] = [voice_of[int(t)] for t in notes["track"]]
        sources = tuple(track_of.get(v, -1) for v in range(n_voices))
        rule = "tracks by register" if len(tracks) == n_voices else "tracks by register, voices left free"
        return VoiceSplit(sort_notes(voiced), sources, rule)
    return _split_by_register(notes, n_voices, n_steps, centres)


def _split_by_register(notes: np.ndarray, n_voices: int, n_steps: int, centres: list[float]) -> VoiceSplit:
    pitch = np.full((n_voices, n_steps), -1, dtype=np.int64)  # (V, S): sounding pitch or -1
    onset = np.zeros((n_voices, n_steps), dtype=bool)
    source = np.full((n_voices, n_steps), -1, dtype=np.int64)
    previous: list[float] = list(centres)
    last_note = [-1] * n_voices  # index of the note each voice sang at the previous step
    by_step = _sounding_notes(notes, n_steps)
    for step in range(n_steps):
        here = by_step[step]
        if not here:
            last_note = [-1] * n_voices
            continue
        here = sorted(here, key=lambda i: -int(notes["pitch"][i]))
        if len(here) > n_voices:
            picks = np.round(np.linspace(0, len(here) - 1, n_voices)).astype(int)
            here = [here[i] for i in picks]
        voices = _nearest_voices([int(notes["pitch"][i]) for i in here], previous)
        current = [-1] * n_voices
        for voice, index in zip(voices, here):
            pitch[voice, step] = notes["pitch"][index]
            source[voice, step] = notes["track"][index]
            onset[voice, step] = notes["onset"][index] == step or last_note[voice] != index
            previous[voice] = float(notes["pitch"][index])
            current[voice] = index
        last_note = current
    return VoiceSplit(_grid_to_notes(pitch, onset), _main_sources(source), "split by register")


def _sounding_notes(notes: np.ndarray, n_steps: int) -> list[list[int]]:
    """For each step, the indices of the notes sounding there."""
    by_step: list[list[int]] = [[] for _ in range(n_steps)]
    for index in range(len(notes)):
        start = int(notes["onset"][index])
        for step in range(max(start, 0), min(start + int(notes["duration"][index]), n_steps)):
            by_step[step].append(index)
    return by_step


def _nearest_voices(pitches: list[float], previous: list[float]) -> tuple[int, ...]:
    """Voices (in order, highest first) for pitches sorted high to low, nearest to each voice's last pitch."""
    best, best_cost = tuple(range(len(pitches))), float("inf")
    for voices in combinations(range(len(previous)), len(pitches)):
        cost = sum(abs(p - previous[v]) for p, v in zip(pitches, voices))
        if cost < best_cost:
            best, best_cost = voices, cost
    return best


def _grid_to_notes(pitch: np.ndarray, onset: np.ndarray) -> np.ndarray:
    """Notes from (V, S) sounding pitches (-1 silent) and onset flags."""
    rows = []
    n_voices, n_steps = pitch.shape
    for voice in range(n_voices):
        start = None
        for step in range(n_steps + 1):
            sounding = step < n_steps and pitch[voice, step] >= 0
            new = sounding and (
                start is None or onset[voice, step] or pitch[voice, step] != pitch[voice, step - 1]
            )
            if start is not None and (not sounding or new):
                rows.append((start, step - start, int(pitch[voice, start]), voice))
                start = None
            if new:
                start = step
    notes = empty_notes(len(rows))
    if rows:
        notes["onset"], notes["duration"], notes["pitch"], notes["track"] = (np.array(c) for c in zip(*rows))
    notes["velocity"] = 80
    return sort_notes(notes)


def _main_sources(source: np.ndarray) -> tuple[int, ...]:
    """The most frequent source track of each voice (-1 if the voice never sang)."""
    out = []
    for row in source:
        used = row[row >= 0]
        out.append(int(np.bincount(used).argmax()) if len(used) else -1)
    return tuple(out)

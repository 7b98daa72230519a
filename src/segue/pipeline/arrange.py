"""The file's own parts after the seam: which part plays which generated voice, and how a part
that no voice carries keeps playing.

The model writes V voices; a file may have any number of parts. Every pitched part that plays
in the prime's last :data:`ACTIVE_BARS` bars goes on after the seam:

- a part whose notes the voices carried (the voices taken from it hold at least
  :data:`CARRIED` of its notes there and of its notes sounding at once), and for which they write
  at least :data:`SILENT` of its notes per bar, plays those voices (a single line only the one that
  carried most of its notes), as
  the model wrote them (an octave or more off the part's register: moved back by octaves): the
  chorale's four parts, a melody, a bass line;
- any other part (a piano's chords under a melody in another track, a second guitar, a part
  with more notes than its voices held) keeps its *pattern*: its last bar in the prime that it
  plays in, repeated bar after bar with its rhythm, register, chord sizes and velocities, each
  pitch moved to the nearest pitch of the harmony the voices sound at the start of its beat (the
  lowest part to the lowest voice's pitch class). A part that held the model's top voice keeps that
  voice as its top line and its pattern below it.

With a one-voice model the harmony a pattern follows is, beat by beat, the chord of the prime that
fits the generated melody best (:func:`_chord_grid`).

A voice that no part of the prime gave notes to (a melody's lower voices under a model of parts, a
voice of a mass that has not come in yet) is written into a part of the file that has not played
before the seam, when the file has one (:func:`entering_parts`): the bass enters in the file's bass
track, not in a new one. Which voice goes to which part is read from the part's name and General
MIDI instrument only (a bass, a tenor, a flute), never from the notes it plays after the seam.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segue.metrics import pitch_class_profile, polyphony, sounding_grid
from segue.music.piece import Part, Piece, empty_notes, sort_notes

ACTIVE_BARS = 2
"""A part plays on when it plays in the prime's last this many bars."""
CARRIED = 0.8
"""Share of a part's notes (and of its notes sounding at once) its voices must hold for it to play them."""
REGISTER = 10
"""A voice written into a part this many semitones (on average) or more from where the part played
in the prime's last bars moves by octaves back to the part's register."""
SILENT = 0.5
"""Voices that write fewer notes per bar than this share of their part's in the prime's last bars
(the model fell silent after a sparse prime) leave the part to its pattern."""
MONOPHONIC = 1.2
"""A part sounding fewer notes at once than this on average in the prime's last bars is a single
line, and plays only the voice that carried most of its notes."""
CHORD_BARS = 4
"""With a one-voice model, the chords a pattern may follow are those of the prime's last this many
bars; the prime's pitch classes (:func:`prime_profile`) are read over as many."""


REGISTER_WORDS = (
    (("sopran", "treble", "cantus", "superius", "descant", "piccolo", "flute", "whistle"), 0.0),
    (("alto", "altus", "contratenor"), 1 / 3),
    (("tenor",), 2 / 3),
    (("bass", "basso", "bassus", "tuba", "contrabass"), 1.0),
)
"""Words in a part's name that say how high it lies among the voices (0: the top voice, 1: the
bottom), checked in order (a "bass flute" is a bass part, an "alto sax" an alto)."""
LOW_PROGRAMS = frozenset([*range(32, 40), 43, 58, 70])
"""General MIDI instruments that play the bottom voice: the basses, contrabass, tuba, bassoon."""
HIGH_PROGRAMS = frozenset([*range(72, 80)])
"""General MIDI instruments that play the top voice: piccolo, flute, recorder and the other pipes."""


def named_height(part: Part) -> float | None:
    """How high ``part`` lies among the voices by its name and instrument alone: 0 the top voice,
    1 the bottom; None when neither says."""
    name = part.name.lower()
    found = [height for words, height in REGISTER_WORDS if any(word in name for word in words)]
    if found:
        return found[-1]  # the last class named: "bass flute" reads as a bass
    return 1.0 if part.program in LOW_PROGRAMS else 0.0 if part.program in HIGH_PROGRAMS else None


def part_height(part: Part) -> float:
    """:func:`named_height`, 0.5 (the middle) when neither the name nor the instrument says."""
    height = named_height(part)
    return 0.5 if height is None else height


def waiting_parts(piece: Piece, cut_step: int) -> list[int]:
    """The file's pitched parts that play no note before ``cut_step`` (they may come in after it)."""
    heard = set(piece.notes["track"][piece.notes["onset"] < cut_step].tolist())
    return [p for p, part in enumerate(piece.parts) if not part.is_drum and p not in heard]


def entering_parts(piece: Piece, cut_step: int, sources: tuple[int, ...]) -> tuple[int, ...]:
    """``sources`` (each voice's part, -1: none) with the voices that have none given to the file's
    pitched parts that play no note before ``cut_step``, so that the model's voices come in where
    the file's own parts would: matched in order (the top voice to the highest part), by
    :func:`part_height` against the voice's place among the model's voices, the parts in file
    order among equals; with more such parts than free voices, the best-fitting ones."""
    free = [v for v, s in enumerate(sources) if s < 0]
    waiting = [p for p in waiting_parts(piece, cut_step) if p not in sources]
    if not free or not waiting or len(sources) < 2:
        return sources
    height = {p: part_height(piece.parts[p]) for p in waiting}
    waiting.sort(key=height.__getitem__)  # stable: file order among equals
    places = [v / (len(sources) - 1) for v in free]
    heights = [height[p] for p in waiting]
    out = list(sources)
    for i, j in _matching(places, heights):
        out[free[i]] = waiting[j]
    return tuple(out)


def entering_registers(
    piece: Piece, before: tuple[int, ...], after: tuple[int, ...], centres: list[float]
) -> dict[int, float]:
    """For each part that :func:`entering_parts` gave a voice (``before`` and ``after`` each
    voice's part) and whose name or instrument says how high it lies: the pitch at that height
    among the voices' range ``centres`` (the file's pitches, top voice first), linearly between
    them."""
    out = {}
    for old, new in zip(before, after):
        height = named_height(piece.parts[new]) if old < 0 <= new else None
        if height is not None:
            out[new] = float(np.interp(height * (len(centres) - 1), np.arange(len(centres)), centres))
    return out


def _matching(a: list[float], b: list[float]) -> list[tuple[int, int]]:
    """The order-keeping pairs (i, j) of two ascending lists, as many as the shorter one has, with
    the least total ``|a[i] - b[j]|`` (the earlier ``j`` among equals; distances rounded so that
    1/2 lies as far from 1/3 as from 2/3)."""
    if len(a) > len(b):
        return [(i, j) for j, i in _matching(b, a)]
    n, m = len(a), len(b)
    cost = np.full((n + 1, m + 1), np.inf)  # cost[i, j]: a[:i] paired within b[:j]
    cost[0, :] = 0.0
    for i in range(1, n + 1):
        for j in range(i, m + 1):
            cost[i, j] = min(cost[i, j - 1], cost[i - 1, j - 1] + round(abs(a[i - 1] - b[j - 1]), 9))
    pairs, j = [], m
    for i in range(n, 0, -1):  # walk back: skip b[j-1] whenever that costs no more
        while j > i and cost[i, j - 1] <= cost[i, j]:
            j -= 1
        pairs.append((i - 1, j - 1))
        j -= 1
    return pairs[::-1]


@dataclass(frozen=True)
class PartNotes:
    """Notes to write after the seam into one of the piece's parts (``part`` indexes
    ``piece.parts``, -1 for a voice with no part: a new track), ``voice`` the voice they come from
    (-1 for a pattern)."""

    part: int
    voice: int
    notes: np.ndarray  # onsets in steps after the seam, pitches the file's


def arrange(
    piece: Piece,
    cut_step: int,
    prime_voices: np.ndarray,
    sources: tuple[int, ...],
    generated: np.ndarray,
    steps: int,
    profile: np.ndarray | None = None,
    registers: dict[int, float] | None = None,
) -> list[PartNotes]:
    """The notes of every part after the seam.

    ``prime_voices`` holds the prime's notes as split into voices (``track`` the voice, up to
    ``cut_step``, the file's pitches), ``sources`` each voice's part (-1: none), ``generated``
    the generated notes (``track`` the voice, onsets after the seam, the file's pitches) over
    ``steps`` steps; ``profile`` the prime's :func:`prime_profile` (computed when not given);
    ``registers`` the mean pitch (the file's) that the name or instrument of a part entering after
    the seam gives it (:func:`entering_registers`): its voice moves there by octaves when the model
    wrote it :data:`REGISTER` semitones or more away (a "Soprano 1" given the model's only free
    voice, the tenor, sings it an octave up).
    """
    n_voices = len(sources)
    bar = piece.bar_steps
    start = max(cut_step - ACTIVE_BARS * bar, piece.first_bar * bar)
    recent = piece.notes[(piece.notes["onset"] >= start) & (piece.notes["onset"] < cut_step)]
    recent_voices = prime_voices[(prime_voices["onset"] >= start) & (prime_voices["onset"] < cut_step)]
    active = [int(p) for p in np.unique(recent["track"])]
    lowest = min(active, key=lambda p: float(recent["pitch"][recent["track"] == p].mean()), default=-1)
    if n_voices > 1:
        key = prime_profile(piece, cut_step) if profile is None else profile
        grid = _in_key(sounding_grid(generated, n_voices, steps), key)
    else:  # one voice: the harmony is chosen among the prime's chords, beat by beat, by the melody
        grid = _chord_grid(piece, cut_step, _without(piece.notes, prime_voices), generated, steps)
    out = []
    written: set[int] = set()
    pace = (steps / bar) / ((cut_step - start) / bar)  # bars written per bar of the prime read
    for part in active:
        voices = [v for v, s in enumerate(sources) if s == part]
        own, carried = recent[recent["track"] == part], recent_voices[np.isin(recent_voices["track"], voices)]

        def lively(chosen: list[int], held: np.ndarray) -> bool:  # the voices write enough notes
            return np.isin(generated["track"], chosen).sum() >= SILENT * len(held) * pace

        if voices and _carries(carried, own) and lively(voices, own):
            if len(voices) > 1 and polyphony(own) < MONOPHONIC:  # a single line stays a single line
                voices = [max(voices, key=lambda v: int((carried["track"] == v).sum()))]
            out += [PartNotes(part, v, _in_register(generated, v, recent_voices)) for v in voices]
            written.update(v for v, s in enumerate(sources) if s == part)
            continue
        top = 0 in voices and lively([0], recent_voices[recent_voices["track"] == 0])
        pattern = _pattern(piece, part, cut_step, below_top=top)
        if top:
            out.append(PartNotes(part, 0, _in_register(generated, 0, recent_voices)))
            written.add(0)
        if len(pattern):
            bass = part == lowest and len(active) > 1 and polyphony(own) <= 1
            notes = _render(pattern, bar, steps, grid, bass, piece.steps_per_beat)
            out.append(PartNotes(part, -1, notes))
    for voice, source in enumerate(sources):  # voices of parts that stopped before the seam or enter after it
        if voice not in written and (source < 0 or source not in active):
            notes = generated[generated["track"] == voice]
            if registers and source in registers:
                notes = _by_octaves(notes, registers[source])
            out.append(PartNotes(source, voice, notes))
    return [p for p in out if len(p.notes)]


def _in_register(generated: np.ndarray, voice: int, recent: np.ndarray) -> np.ndarray:
    """A voice's generated notes moved by the octaves that bring their mean pitch nearest to the
    voice's in the prime's last bars, when the two lie :data:`REGISTER` semitones or more apart
    (the model folded the voice into its range, or drifted from the part's register)."""
    notes = generated[generated["track"] == voice]
    before = recent["pitch"][recent["track"] == voice]
    if not len(notes) or not len(before):
        return notes
    return _by_octaves(notes, float(before.mean()))


def _by_octaves(notes: np.ndarray, target: float) -> np.ndarray:
    """``notes`` moved by the octaves that bring their mean pitch nearest ``target``, when the two
    lie :data:`REGISTER` semitones or more apart (kept within MIDI's pitches)."""
    notes = notes.copy()
    if not len(notes):
        return notes
    gap = target - float(notes["pitch"].mean())
    if abs(gap) < REGISTER:
        return notes
    octaves = round(gap / 12)
    pitch = notes["pitch"].astype(np.int64) + 12 * octaves
    while pitch.max() > 127:
        pitch -= 12
    while pitch.min() < 0:
        pitch += 12
    notes["pitch"] = pitch
    return notes


def _carries(carried: np.ndarray, own: np.ndarray) -> bool:
    """Whether the voices hold enough of a part's notes, and of its notes sounding at once."""
    return len(carried) >= CARRIED * len(own) and polyphony(carried) >= CARRIED * polyphony(own)


def _pattern(piece: Piece, part: int, cut_step: int, below_top: bool) -> np.ndarray:
    """The part's last bar before the seam that it plays in (onsets within the bar, lengths cut
    at the bar line); ``below_top``: without its top line (each note that is the highest
    sounding in the part where it starts)."""
    bar = piece.bar_steps
    notes = piece.track_notes(part)
    for start in range(cut_step - bar, piece.first_bar * bar - 1, -bar):
        chunk = notes[(notes["onset"] >= start) & (notes["onset"] < start + bar)].copy()
        if len(chunk):
            break
    else:
        return empty_notes()
    if below_top:
        sounding = notes[(notes["onset"] < start + bar) & (notes["onset"] + notes["duration"] > start)]
        keep = [
            bool(
                (
                    (sounding["onset"] <= note["onset"])
                    & (sounding["onset"] + sounding["duration"] > note["onset"])
                    & (sounding["pitch"] > note["pitch"])
                ).any()
            )
            for note in chunk
        ]
        chunk = chunk[np.asarray(keep, dtype=bool)]
    chunk["onset"] -= start
    chunk["duration"] = np.minimum(chunk["duration"], bar - chunk["onset"])
    return chunk


def _harmonies(grid: np.ndarray, steps_per_beat: int, bass: bool) -> list[tuple[int, ...]]:
    """For each beat: the pitch classes the voices sound at its start (the lowest voice's only, for
    the bass), else those of the latest step before it where any sounds; empty before any has."""
    out: list[tuple[int, ...]] = []
    current: tuple[int, ...] = ()
    for at in range(grid.shape[1]):
        sounding = grid[:, at][grid[:, at] >= 0]
        if len(sounding):
            current = (int(sounding[-1]) % 12,) if bass else tuple(sorted({int(p) % 12 for p in sounding}))
        if at % steps_per_beat == 0:
            out.append(current)
    return out


def _render(
    pattern: np.ndarray, bar: int, steps: int, grid: np.ndarray, bass: bool, steps_per_beat: int
) -> np.ndarray:
    """The pattern repeated over ``steps`` steps, each pitch moved to the nearest pitch of the
    voices' harmony at the start of its beat (kept where the voices sound none); notes of one
    onset stay distinct."""
    harmonies = _harmonies(grid, steps_per_beat, bass) if len(grid) else []
    onsets = np.unique(pattern["onset"])
    chords = []
    for onset in onsets:
        chord = pattern[pattern["onset"] == onset]
        chords.append(chord[np.argsort(-chord["pitch"].astype(np.int64), kind="stable")])
    snapped: dict[tuple[int, tuple[int, ...]], list[int]] = {}  # (onset, harmony): the chord's pitches
    pieces = []
    for offset in range(0, steps, bar):
        for onset, chord in zip(onsets, chords):
            step = offset + int(onset)
            if step >= steps:
                continue
            classes = harmonies[step // steps_per_beat] if harmonies else ()
            key = (int(onset), classes)
            if key not in snapped:
                snapped[key] = _snap(chord, classes)
            block = chord.copy()
            block["pitch"] = snapped[key]
            block["onset"] = step
            block["duration"] = np.minimum(block["duration"], steps - step)
            pieces.append(block)
    return sort_notes(np.concatenate(pieces)) if pieces else empty_notes()


def _snap(chord: np.ndarray, classes: tuple[int, ...]) -> list[int]:
    """Each of the chord's pitches (highest first) moved to the nearest pitch of ``classes`` not
    taken by a higher one; unchanged without classes."""
    if not classes:
        return [int(p) for p in chord["pitch"]]
    out: list[int] = []
    for note in chord:
        out.append(_nearest(int(note["pitch"]), set(classes), set(out)))
    return out


IN_KEY = 0.04
"""A pitch class a pattern may move to must fill at least this share of the prime's last bars'
sounding time (the patterns stay in the prime's key where the voices stray)."""


def prime_profile(piece: Piece, cut_step: int) -> np.ndarray:
    """Each pitch class's share of the sounding time of the prime's last :data:`CHORD_BARS` bars,
    every part (12 shares, C first; zeros for a silent stretch): what the patterns keep to and
    what the key prior reads."""
    start = max(cut_step - CHORD_BARS * piece.bar_steps, 0)
    return pitch_class_profile(
        piece.notes[(piece.notes["onset"] >= start) & (piece.notes["onset"] < cut_step)]
    )


def _in_key(grid: np.ndarray, profile: np.ndarray) -> np.ndarray:
    """The voices' grid without the pitches whose class the prime hardly sounds (less than
    :data:`IN_KEY` of its sounding time, by ``profile``)."""
    if not profile.sum():
        return grid
    keep = profile >= IN_KEY
    return np.where((grid >= 0) & keep[np.maximum(grid, 0) % 12], grid, -1)


def _without(notes: np.ndarray, line: np.ndarray) -> np.ndarray:
    """``notes`` without those that start where a note of ``line`` starts, on its pitch."""
    taken = set(zip(line["onset"].tolist(), line["pitch"].tolist()))
    keep = [(o, p) not in taken for o, p in zip(notes["onset"].tolist(), notes["pitch"].tolist())]
    return notes[np.asarray(keep, dtype=bool)]


def _chord_grid(
    piece: Piece, cut_step: int, accompaniment: np.ndarray, melody: np.ndarray, steps: int
) -> np.ndarray:
    """For a one-voice model: a (rows, steps) grid of pitches whose classes are, at each beat, the
    chord of the prime (the classes the ``accompaniment``, every note but the tune's, sounds at
    one of its last :data:`CHORD_BARS` bars' beats, its lowest class last) that holds the most
    of the generated ``melody``'s sounding time in that beat; the previous beat's chord among equals, then the
    chord the prime sounds most. No rows when the prime has no accompaniment."""
    beat, bar = piece.steps_per_beat, piece.bar_steps
    start = max(cut_step - CHORD_BARS * bar, piece.first_bar * bar)
    notes = accompaniment
    counts: dict[tuple[int, ...], int] = {}
    for step in range(start, cut_step, beat):
        here = notes[(notes["onset"] <= step) & (notes["onset"] + notes["duration"] > step)]
        if len(here):
            ordered = [int(p) % 12 for p in np.sort(here["pitch"])[::-1]]
            low = ordered[-1]
            chord = (*dict.fromkeys(c for c in ordered if c != low), low)  # the lowest class last
            counts[chord] = counts.get(chord, 0) + 1
    if not counts:
        return np.zeros((0, steps), dtype=np.int64)
    chords = sorted(counts, key=lambda c: -counts[c])
    rows = max(len(c) for c in chords)
    grid = np.full((rows, steps), -1, dtype=np.int64)
    line = sounding_grid(melody, 1, steps)[0]
    chosen = chords[0]
    for at in range(0, steps, beat):
        span = line[at : at + beat]
        span = span[span >= 0] % 12
        if len(span):
            chosen = max(chords, key=lambda c: (int(np.isin(span, c).sum()), c == chosen, counts[c]))
        grid[rows - len(chosen) :, at : at + beat] = np.asarray(chosen)[:, None] + 60
    return grid


def _nearest(pitch: int, classes: set[int], used: set[int]) -> int:
    """The pitch nearest ``pitch`` (the lower among equals) whose class is in ``classes`` and that
    is not in ``used``; ``pitch`` itself when none lies within an octave."""
    for distance in range(13):
        for candidate in (pitch - distance, pitch + distance):
            if 0 <= candidate <= 127 and candidate % 12 in classes and candidate not in used:
                return candidate
    return pitch

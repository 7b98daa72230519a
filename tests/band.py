"""Synthetic band arrangements for tests: eight parts (lead, counter-melody, piano, guitar,
strings, brass, bass and drums) over a chord progression, in 4/4 or 6/8, one track per part."""

from __future__ import annotations

import numpy as np

from tests.smf import TrackBuilder, smf

TPQ = 480
PROGRESSION = (0, 9, 5, 7)  # I vi IV V: chord roots above the tonic
PARTS = (  # name, program, channel
    ("Lead", 73, 0),
    ("Counter", 40, 1),
    ("Piano", 0, 2),
    ("Guitar", 25, 3),
    ("Strings", 48, 4),
    ("Brass", 61, 5),
    ("Bass", 33, 6),
    ("Drums", 0, 9),
)


def _chord(tonic: int, root: int) -> list[int]:
    """The triad on ``root`` semitones above ``tonic`` (minor on the sixth), pitch classes."""
    third = 3 if root == 9 else 4
    return [(tonic + root) % 12, (tonic + root + third) % 12, (tonic + root + 7) % 12]


def _voiced(classes: list[int], low: int, count: int) -> list[int]:
    """``count`` pitches of the classes stacked upwards from the first at or above ``low``."""
    out, pitch = [], low
    while len(out) < count:
        if pitch % 12 in classes:
            out.append(pitch)
        pitch += 1
    return out


def band(meter: tuple[int, int] = (4, 4), bars: int = 8, seed: int = 0) -> bytes:
    """One arrangement as MIDI bytes: ``bars`` bars, key and melody drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    tonic = int(rng.integers(0, 12))
    numerator, denominator = meter
    bar = TPQ * 4 * numerator // denominator
    beat = TPQ if denominator == 4 else TPQ * 3 // 2  # a quarter, or a dotted quarter in x/8
    eighth = TPQ // 2
    conductor = TrackBuilder().name("Band").meter(0, numerator, denominator).tempo(0, 500_000)
    tracks = {
        name: TrackBuilder().name(name).program(0, program, channel) for name, program, channel in PARTS
    }
    lead_pitch = 72 + tonic % 12
    for b in range(bars):
        start = b * bar
        classes = _chord(tonic, PROGRESSION[b % len(PROGRESSION)])
        scale = [(tonic + s) % 12 for s in (0, 2, 4, 5, 7, 9, 11)]
        for t in range(0, bar, eighth):  # the lead: eighths, stepping through the scale
            moves = [
                p
                for p in range(lead_pitch - 2, lead_pitch + 3)
                if p % 12 in (classes if t % beat == 0 else scale)
            ]
            lead_pitch = int(np.clip(rng.choice(moves), 67, 88)) if moves else lead_pitch
            tracks["Lead"].note(start + t, eighth, lead_pitch, 96, 0)
        for i, pitch in enumerate(_voiced(classes, 64, 2)):  # the counter-melody: two long notes
            tracks["Counter"].note(start + i * bar // 2, bar // 2, pitch, 70, 1)
        for t in range(0, bar, beat):  # piano: a chord on every beat
            for pitch in _voiced(classes, 55, 3):
                tracks["Piano"].note(start + t, beat, pitch, 72, 2)
        for t in range(0, bar, eighth):  # guitar: four-note strums on the eighths
            for pitch in _voiced(classes, 52, 4):
                tracks["Guitar"].note(start + t, eighth, pitch, 60 + 10 * (t % beat == 0), 3)
        for pitch in _voiced(classes, 48, 3):  # strings: the chord held through the bar
            tracks["Strings"].note(start, bar, pitch, 55, 4)
        for t in range(beat // 2, bar, beat):  # brass: stabs off the beat
            for pitch in _voiced(classes, 60, 2):
                tracks["Brass"].note(start + t, eighth // 2, pitch, 84, 5)
        root = 36 + classes[0]
        for i, t in enumerate(range(0, bar, beat)):  # bass: root and fifth
            tracks["Bass"].note(start + t, beat, root if i % 2 == 0 else root + 7, 90, 6)
        for t in range(0, bar, eighth):  # drums: hats on the eighths, kick and snare on the beats
            tracks["Drums"].note(start + t, 60, 42, 70, 9)
            if t % beat == 0:
                tracks["Drums"].note(start + t, 120, 36 if (t // beat) % 2 == 0 else 38, 110, 9)
    return smf([conductor, *tracks.values()], tpq=TPQ)

"""The music data model: a piece of notes on a bar grid, with its metadata.

All times are integer *steps*; a beat is a quarter note and lasts ``steps_per_beat``
steps (4 by default, so a 4/4 bar has 16 steps). Step 0 is the start of bar 0.
When the piece opens with a pickup (anacrusis), bar 0 is that pickup bar: only its
last ``pickup`` steps are music, and it is not counted among the complete bars.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

NOTE_DTYPE = np.dtype(
    [
        ("onset", "<i4"),  # step where the note starts
        ("duration", "<i4"),  # length in steps, at least 1
        ("pitch", "u1"),  # MIDI pitch 0..127
        ("velocity", "u1"),  # MIDI velocity 1..127
        ("track", "<u2"),  # index into Piece.parts
    ]
)


def empty_notes(n: int = 0) -> np.ndarray:
    """Return a zeroed note array of length ``n`` with :data:`NOTE_DTYPE`."""
    return np.zeros(n, dtype=NOTE_DTYPE)


def make_notes(
    onset: object, duration: object, pitch: object, velocity: object = 80, track: object = 0
) -> np.ndarray:
    """Build a note array from columns (scalars broadcast), sorted canonically."""
    cols = np.broadcast_arrays(
        np.asarray(onset),
        np.asarray(duration),
        np.asarray(pitch),
        np.asarray(velocity),
        np.asarray(track),
    )
    notes = empty_notes(cols[0].size)
    for name, col in zip(NOTE_DTYPE.names or (), cols):
        notes[name] = col.ravel()
    return sort_notes(notes)


def sort_notes(notes: np.ndarray) -> np.ndarray:
    """Sort notes by (onset, track, pitch, duration): the canonical order."""
    order = np.lexsort((notes["duration"], notes["pitch"], notes["track"], notes["onset"]))
    return notes[order]


@dataclass(frozen=True)
class Meter:
    """A time signature such as 4/4 or 6/8."""

    numerator: int
    denominator: int

    def __post_init__(self) -> None:
        if self.numerator < 1 or self.denominator < 1 or self.denominator & (self.denominator - 1):
            raise ValueError(f"invalid time signature {self.numerator}/{self.denominator}")

    def bar_steps(self, steps_per_beat: int) -> int:
        """Steps in one bar; raises ValueError when the grid cannot hold the bar."""
        total = self.numerator * steps_per_beat * 4
        if total % self.denominator:
            raise ValueError(
                f"a {self} bar is not a whole number of steps at {steps_per_beat} steps per beat"
            )
        return total // self.denominator

    def __str__(self) -> str:
        return f"{self.numerator}/{self.denominator}"


@dataclass(frozen=True)
class Part:
    """One track: its name, General MIDI program and whether it is a drum track."""

    name: str = ""
    program: int = 0
    is_drum: bool = False


@dataclass(frozen=True)
class KeySignature:
    """A key: ``fifths`` sharps (positive) or flats (negative), major or minor."""

    fifths: int = 0
    minor: bool = False

    def tonic_pitch_class(self) -> int:
        """Pitch class (0 = C) of the tonic."""
        major_tonic = (7 * self.fifths) % 12
        return (major_tonic + 9) % 12 if self.minor else major_tonic

    def __str__(self) -> str:
        names = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
        return f"{names[self.tonic_pitch_class()]} {'minor' if self.minor else 'major'}"


@dataclass(frozen=True, eq=False)
class Piece:
    """Notes on a bar grid in one meter, with what is needed to write them back.

    ``tempos`` is a tempo map of ``(step, microseconds per quarter note)`` pairs;
    ``keys`` a list of ``(step, KeySignature)``; ``fermatas`` the steps where a
    fermata ends a phrase (the bundled chorales only). ``extra`` holds what a builder
    keeps beside a piece while it works (never written to a dataset), and the ``style`` a
    dataset recorded for a piece read from it. Where a piece read from
    MIDI lies in its file is :class:`segue.music.midi.FilePlace`.
    """

    notes: np.ndarray
    parts: tuple[Part, ...]
    meter: Meter = Meter(4, 4)
    steps_per_beat: int = 4
    pickup: int = 0
    tempos: tuple[tuple[int, int], ...] = ((0, 500_000),)
    keys: tuple[tuple[int, KeySignature], ...] = ()
    fermatas: tuple[int, ...] = ()
    name: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.notes.dtype != NOTE_DTYPE:
            raise ValueError(f"notes must have dtype NOTE_DTYPE, not {self.notes.dtype}")
        if self.steps_per_beat < 1:
            raise ValueError("steps_per_beat must be at least 1")
        if not 0 <= self.pickup < self.bar_steps:
            raise ValueError(f"pickup of {self.pickup} steps does not fit a {self.meter} bar")
        if len(self.notes) and int(self.notes["track"].max()) >= len(self.parts):
            raise ValueError("a note refers to a track the piece does not have")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Piece):
            return NotImplemented
        fields = ("parts", "meter", "steps_per_beat", "pickup", "tempos", "keys", "fermatas", "name")
        return all(getattr(self, f) == getattr(other, f) for f in fields) and np.array_equal(
            self.notes, other.notes
        )

    __hash__ = None  # type: ignore[assignment]

    @property
    def bar_steps(self) -> int:
        """Steps per bar in this piece's meter."""
        return self.meter.bar_steps(self.steps_per_beat)

    @property
    def end(self) -> int:
        """The step where the last note ends (0 for no notes)."""
        if not len(self.notes):
            return 0
        return int((self.notes["onset"] + self.notes["duration"]).max())

    @property
    def first_bar(self) -> int:
        """Index of the first complete bar: 1 after a pickup bar, else 0."""
        return 1 if self.pickup else 0

    @property
    def n_bars(self) -> int:
        """Bars the notes reach into, the pickup bar included."""
        return -(-self.end // self.bar_steps)

    @property
    def complete_bars(self) -> int:
        """Bars after the pickup whose full length lies inside the piece.

        A bar counts as complete when the piece's notes reach its last step or beyond,
        i.e. a final bar cut short by an anacrusis at the start is not complete.
        """
        return max(0, self.end // self.bar_steps - self.first_bar)

    @property
    def key(self) -> KeySignature | None:
        """The first key signature, if any."""
        return self.keys[0][1] if self.keys else None

    def with_notes(self, notes: np.ndarray, **changes: object) -> Piece:
        """A copy with other notes (and optionally other fields)."""
        return replace(self, notes=sort_notes(notes), **changes)  # type: ignore[arg-type]

    def track_notes(self, track: int) -> np.ndarray:
        """The notes of one track."""
        return self.notes[self.notes["track"] == track]

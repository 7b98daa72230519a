"""Music without PyTorch: the note data model, MIDI reading and writing, and piano rolls."""

from segue.music.midi import ReadResult, midi_bytes, read_midi, write_midi
from segue.music.pianoroll import Roll, from_pianoroll, to_pianoroll
from segue.music.piece import (
    NOTE_DTYPE,
    KeySignature,
    Meter,
    Part,
    Piece,
    empty_notes,
    make_notes,
    sort_notes,
)

__all__ = [
    "NOTE_DTYPE",
    "KeySignature",
    "Meter",
    "Part",
    "Piece",
    "ReadResult",
    "Roll",
    "empty_notes",
    "from_pianoroll",
    "make_notes",
    "midi_bytes",
    "read_midi",
    "sort_notes",
    "to_pianoroll",
    "write_midi",
]

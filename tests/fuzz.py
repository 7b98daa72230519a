"""Mutated and random MIDI for fuzzing the reader and the representation.

:func:`mutants` turns seed files into broken variants (flipped and inserted bytes, cut
files, lying chunk lengths, random events); :func:`exercise` runs one input through
everything a file meets in segue: read, voices, tokens, piano roll, MIDI out and back.
Anything but a clean :class:`~segue.errors.MidiError` is a crash.
"""

from __future__ import annotations

import struct

import numpy as np

from segue.errors import MidiError
from segue.models.config import ModelConfig
from segue.music.midi import midi_bytes, read_midi
from segue.music.pianoroll import from_pianoroll, to_pianoroll
from segue.pipeline.pieces import as_voices, piece_tokens
from tests.smf import TrackBuilder, smf, varlen

CONFIG = ModelConfig()


def seeds() -> list[bytes]:
    """Small valid files: a melody with meta events, chords on two channels, a type 1 file."""
    melody = TrackBuilder().meter(0, 4, 4).tempo(0, 500_000).key(0, 2, False).name("melody")
    for beat in range(16):
        melody.note(beat * 480, 480, 60 + beat % 7)
    chords = TrackBuilder().meter(0, 3, 4).program(0, 0, 0).program(0, 40, 1)
    for bar in range(6):
        for pitch in (48, 52, 55):
            chords.note(bar * 1440, 1440, pitch + bar, channel=0)
        chords.note(bar * 1440, 480, 72 + bar, channel=1)
    bass = TrackBuilder().note(0, 960, 36).note(960, 960, 43).note(1920, 1920, 38)
    return [smf([melody]), smf([chords], tpq=96), smf([melody, bass])]


def random_events(rng: np.random.Generator, count: int) -> bytes:
    """A track body of random events: any status byte, random data, random delta times."""
    body = b""
    for _ in range(count):
        body += varlen(int(rng.integers(0, 2000)))
        kind = int(rng.integers(0, 6))
        if kind == 0:  # meta event with a random type and length
            data = rng.bytes(int(rng.integers(0, 8)))
            body += bytes([0xFF, int(rng.integers(0, 128))]) + varlen(len(data)) + data
        elif kind == 1:  # sysex
            data = rng.bytes(int(rng.integers(0, 8)))
            body += b"\xf0" + varlen(len(data)) + data
        else:  # channel message, maybe running status (no status byte)
            if rng.random() < 0.8:
                body += bytes([int(rng.integers(0x80, 0xF0))])
            body += bytes(int(x) for x in rng.integers(0, 128, int(rng.integers(1, 3))))
    return body + b"\x00\xff\x2f\x00"


def mutants(rng: np.random.Generator, seed_files: list[bytes]) -> bytes:
    """One broken variant of a seed file (or a random file)."""
    kind = int(rng.integers(0, 8))
    data = bytearray(seed_files[int(rng.integers(0, len(seed_files)))])
    if kind >= 6:  # change data bytes only (pitches, velocities, times): the file stays well formed
        body = [i for i in range(22, len(data)) if data[i] < 0x80]
        for _ in range(int(rng.integers(1, 16))):
            data[body[int(rng.integers(0, len(body)))]] = int(rng.integers(0, 128))
    elif kind == 0:  # flip bytes
        for _ in range(int(rng.integers(1, 8))):
            data[int(rng.integers(0, len(data)))] = int(rng.integers(0, 256))
    elif kind == 1:  # cut the file
        del data[int(rng.integers(1, len(data))) :]
    elif kind == 2:  # insert random bytes
        at = int(rng.integers(14, len(data)))
        data[at:at] = rng.bytes(int(rng.integers(1, 16)))
    elif kind == 3:  # a chunk length that lies
        at = data.find(b"MTrk")
        data[at + 4 : at + 8] = struct.pack(">I", int(rng.integers(0, 2**32)))
    elif kind == 4:  # odd header fields: format, track count, resolution
        data[8:14] = struct.pack(">HHH", *(int(x) for x in rng.integers(0, 2**16, 3)))
    else:  # a well-formed file of random events
        tracks = int(rng.integers(1, 4))
        header = b"MThd" + struct.pack(">IHHH", 6, 1, tracks, int(rng.integers(1, 2**15)))
        bodies = [random_events(rng, int(rng.integers(1, 60))) for _ in range(tracks)]
        return header + b"".join(b"MTrk" + struct.pack(">I", len(b)) + b for b in bodies)
    return bytes(data)


def exercise(data: bytes) -> str:
    """Run one input through the reader and the representation; returns "read" or "refused"."""
    try:
        result = read_midi(data, name="fuzz")
    except MidiError as error:
        assert str(error).startswith("fuzz: ") and "\n" not in str(error)
        return "refused"
    for piece in result.pieces:
        assert len(piece.notes) and piece.complete_bars >= 1
        roll = to_pianoroll(piece.notes, len(piece.parts))
        assert from_pianoroll(roll).shape[0] <= len(piece.notes)
        if str(piece.meter) == CONFIG.meter:
            tokens = piece_tokens(as_voices(piece, CONFIG), CONFIG)
            assert tokens.shape[0] == CONFIG.voices
        again = read_midi(midi_bytes(piece), name="again").pieces[0]
        assert len(again.notes) == len(piece.notes)
    return "read"

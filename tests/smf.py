"""A tiny Standard MIDI File writer for tests: builds messy files byte by byte.

It writes exactly what it is told (type 0 files, several channels in one track,
drums, zero-length notes, odd resolutions), which a MIDI library would tidy up.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field


def varlen(value: int) -> bytes:
    """MIDI variable-length quantity."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


@dataclass
class TrackBuilder:
    """Events at absolute ticks; rendered sorted with note-offs before note-ons at a tick."""

    events: list[tuple[int, int, bytes]] = field(default_factory=list)

    def note(self, start: int, length: int, pitch: int, velocity: int = 80, channel: int = 0) -> TrackBuilder:
        self.events.append((start, 1, bytes([0x90 | channel, pitch, velocity])))
        off_order = 2 if length == 0 else 0  # a zero-length note: note-on, then its note-off
        self.events.append((start + length, off_order, bytes([0x80 | channel, pitch, 0])))
        return self

    def tempo(self, tick: int, mspq: int) -> TrackBuilder:
        self.events.append((tick, -1, b"\xff\x51\x03" + mspq.to_bytes(3, "big")))
        return self

    def meter(self, tick: int, numerator: int, denominator: int) -> TrackBuilder:
        power = denominator.bit_length() - 1
        self.events.append((tick, -1, bytes([0xFF, 0x58, 4, numerator, power, 24, 8])))
        return self

    def key(self, tick: int, fifths: int, minor: bool) -> TrackBuilder:
        self.events.append((tick, -1, bytes([0xFF, 0x59, 2, fifths & 0xFF, int(minor)])))
        return self

    def name(self, text: str) -> TrackBuilder:
        self.events.append((0, -2, b"\xff\x03" + varlen(len(text)) + text.encode()))
        return self

    def program(self, tick: int, program: int, channel: int = 0) -> TrackBuilder:
        self.events.append((tick, -1, bytes([0xC0 | channel, program])))
        return self

    def chunk(self) -> bytes:
        body, now = b"", 0
        for tick, _, data in sorted(self.events, key=lambda e: (e[0], e[1])):
            body += varlen(tick - now) + data
            now = tick
        body += b"\x00\xff\x2f\x00"
        return b"MTrk" + struct.pack(">I", len(body)) + body


def smf(tracks: list[TrackBuilder], tpq: int = 480, fmt: int | None = None) -> bytes:
    """A whole file: type 0 for one track unless ``fmt`` says otherwise."""
    fmt = (0 if len(tracks) == 1 else 1) if fmt is None else fmt
    header = b"MThd" + struct.pack(">IHHH", 6, fmt, len(tracks), tpq)
    return header + b"".join(t.chunk() for t in tracks)

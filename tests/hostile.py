"""A corpus of hostile MIDI files, built byte by byte.

``python -m tests.hostile`` writes the small ones to ``tests/data/hostile/``; the tests
build all of them (the 50 MB file too) in a temporary folder with :func:`write_corpus`.
Each file is named after what is wrong with it.
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Callable
from pathlib import Path

from tests.smf import TrackBuilder, smf, varlen

HERE = Path(__file__).parent / "data" / "hostile"
BIG = {"fifty_megabytes.mid", "hundred_thousand_notes_in_one_bar.mid"}  # built, never committed


def header(fmt: int, tracks: int, tpq: int) -> bytes:
    return b"MThd" + struct.pack(">IHHH", 6, fmt, tracks, tpq)


def chunk(body: bytes, declared: int | None = None) -> bytes:
    return b"MTrk" + struct.pack(">I", len(body) if declared is None else declared) + body


def tune(bars: int = 8, tpq: int = 480) -> TrackBuilder:
    """A plain 4/4 melody in quarter notes, the healthy part of most hostile files."""
    track = TrackBuilder().meter(0, 4, 4).tempo(0, 500_000)
    for beat in range(bars * 4):
        track.note(beat * tpq, tpq, 60 + (beat * 2) % 12)
    return track


def not_midi() -> bytes:
    return b"RIFF\x00\x00\x00\x00WAVEfmt this is not a MIDI file at all\n" * 20


def truncated_track() -> bytes:
    whole = tune().chunk()
    return header(0, 1, 480) + whole[: len(whole) // 3]


def chunk_longer_than_file() -> bytes:
    body = tune().chunk()[8:]
    return header(0, 1, 480) + chunk(body, declared=0x7FFFFFF0)


def running_status_at_start() -> bytes:
    body = b"\x00\x3c\x40" + b"\x83\x60\x3c\x00" + b"\x00\xff\x2f\x00"  # data bytes before any status byte
    return header(0, 1, 480) + chunk(body)


def note_on_without_note_off() -> bytes:
    events = b""
    for beat in range(32):
        events += varlen(0 if beat == 0 else 480) + bytes([0x90, 60 + beat % 12, 80])
    return header(0, 1, 480) + chunk(events + b"\x00\xff\x2f\x00")


def note_of_ten_hours() -> bytes:
    track = tune(4)
    track.note(0, 10 * 3600 * 2 * 480, 48)  # 10 hours at 120 beats per minute
    return smf([track])


def note_of_268_million_beats() -> bytes:
    """The longest note a file can hold (2^28 - 1 ticks) at one tick per beat."""
    track = TrackBuilder().meter(0, 4, 4)
    for beat in range(8):
        track.note(beat, 1, 60 + beat)
    track.note(0, 0x0FFFFFFF, 48)
    return smf([track], tpq=1)


def tempo(mspq: int) -> Callable[[], bytes]:
    def build() -> bytes:
        payload = mspq.to_bytes(4 if mspq >= 2**24 else 3, "big")  # 60,000,000 needs a 4th byte
        meta = b"\x00\xff\x51" + bytes([len(payload)]) + payload
        body = tune().chunk()[8:]
        return header(0, 1, 480) + chunk(meta + body)

    return build


def resolution(tpq: int) -> Callable[[], bytes]:
    def build() -> bytes:
        return smf([tune(8, tpq)], tpq=tpq)

    return build


def hundred_thousand_notes_in_one_bar() -> bytes:
    track = tune(2)
    for i in range(100_000):
        track.note(4 * 480 + (i % 1920), 1, 36 + i % 48)
    return smf([track])


def many_tracks(count: int = 256) -> bytes:
    tracks = [tune(2)] + [TrackBuilder().note(i, 480, 40 + i % 40) for i in range(count - 1)]
    return smf(tracks, fmt=1)


def smf_type_2() -> bytes:
    return smf([tune(4), tune(4)], fmt=2)


def fifty_megabytes() -> bytes:
    """A valid header and one track of 50 MB of notes (about 6 million)."""
    note = b"\x00\x90\x3c\x50" + b"\x01\x80\x3c\x00"
    count = 50 * 2**20 // len(note)
    return header(0, 1, 480) + chunk(note * count + b"\x00\xff\x2f\x00")


CORPUS: dict[str, Callable[[], bytes]] = {
    "not_midi.mid": not_midi,
    "truncated_track.mid": truncated_track,
    "chunk_longer_than_file.mid": chunk_longer_than_file,
    "running_status_at_start.mid": running_status_at_start,
    "note_on_without_note_off.mid": note_on_without_note_off,
    "note_of_ten_hours.mid": note_of_ten_hours,
    "note_of_268_million_beats.mid": note_of_268_million_beats,
    "tempo_1_us_per_beat.mid": tempo(1),
    "tempo_60000000_us_per_beat.mid": tempo(60_000_000),
    "resolution_1.mid": resolution(1),
    "resolution_32767.mid": resolution(32767),
    "hundred_thousand_notes_in_one_bar.mid": hundred_thousand_notes_in_one_bar,
    "256_tracks.mid": many_tracks,
    "smf_type_2.mid": smf_type_2,
    "zero_bytes.mid": lambda: b"",
    "fifty_megabytes.mid": fifty_megabytes,
}


def write_corpus(folder: Path, big: bool = True) -> list[Path]:
    """Write every hostile file (without the big ones unless ``big``) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, build in CORPUS.items():
        if big or name not in BIG:
            (folder / name).write_bytes(build())
            written.append(folder / name)
    return written


if __name__ == "__main__":
    for path in write_corpus(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE, big=False):
        print(f"{path} ({path.stat().st_size:,} bytes)")

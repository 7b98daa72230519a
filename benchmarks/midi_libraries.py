"""Why segue reads MIDI with symusic: parse time of real files, symusic against pretty_midi and mido.

The files are the bundled chorales written out as MIDI (real four-voice music with
pickups, keys and fermata-length notes). Libraries that are not installed are skipped:

    .venv/bin/pip install pretty_midi mido
    .venv/bin/python benchmarks/midi_libraries.py
"""

from __future__ import annotations

import importlib.util
import io
import time
from collections.abc import Callable

from segue.data.chorales import load_chorales
from segue.music.midi import midi_bytes, read_midi


def parse_symusic(data: bytes) -> int:
    import symusic

    return sum(t.note_num() for t in symusic.Score.from_midi(data).tracks)


def parse_pretty_midi(data: bytes) -> int:
    import pretty_midi

    return sum(len(i.notes) for i in pretty_midi.PrettyMIDI(io.BytesIO(data)).instruments)


def parse_mido(data: bytes) -> int:
    import mido

    midi = mido.MidiFile(file=io.BytesIO(data))
    return sum(1 for track in midi.tracks for m in track if m.type == "note_on" and m.velocity > 0)


def parse_segue(data: bytes) -> int:
    return sum(len(p.notes) for p in read_midi(data).pieces)


def main() -> None:
    files = [midi_bytes(piece) for piece in load_chorales()]
    readers: dict[str, tuple[str, Callable[[bytes], int]]] = {
        "symusic": ("symusic", parse_symusic),
        "pretty_midi": ("pretty_midi", parse_pretty_midi),
        "mido": ("mido", parse_mido),
        "segue.read_midi (symusic + grid rules)": ("symusic", parse_segue),
    }
    print(f"{len(files)} chorale MIDI files, {sum(map(len, files)) / 1024:.0f} KiB")
    print("| reader | seconds | ms per file | notes |")
    print("| --- | ---: | ---: | ---: |")
    for label, (module, parse) in readers.items():
        if importlib.util.find_spec(module) is None:
            print(f"| {label} | not installed | | |")
            continue
        start = time.perf_counter()
        notes = sum(parse(data) for data in files)
        seconds = time.perf_counter() - start
        print(f"| {label} | {seconds:.3f} | {1000 * seconds / len(files):.2f} | {notes} |")


if __name__ == "__main__":
    main()

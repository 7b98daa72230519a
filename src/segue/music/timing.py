"""Where a MIDI file's time goes: its length in seconds and its tempo map, for players and
play heads (the studio's follows it)."""

from __future__ import annotations

import symusic

from segue.music.midi import DEFAULT_TEMPO, MidiFile


def midi_seconds(data: bytes) -> float:
    """How long a MIDI file plays, in seconds (to the end of its last note)."""
    return float(symusic.Score.from_midi(data).to("second").end())


def tempo_segments(source: bytes | MidiFile, steps_per_beat: int = 4) -> list[tuple[float, float, float]]:
    """Where a MIDI file's time goes: ``(step, seconds, seconds per step)`` at its start and at
    each tempo change, the step counted from the file's start (``steps_per_beat`` to a beat),
    the seconds elapsed there, and the pace from there on. A span at a tempo of 0 takes no time,
    as synthesizers play it, and has no segment of its own; a file without tempo plays at 120
    beats per minute."""
    score = source.score if isinstance(source, MidiFile) else symusic.Score.from_midi(source)
    tpq = score.tpq
    changes = sorted(((int(t.time), max(int(t.mspq), 0)) for t in score.tempos), key=lambda c: c[0])
    if not changes or changes[0][0] > 0:
        changes.insert(0, (0, DEFAULT_TEMPO))
    segments: list[tuple[float, float, float]] = []
    seconds, last_tick, pace = 0.0, 0, changes[0][1]
    for tick, mspq in changes:
        seconds += (tick - last_tick) / tpq * pace / 1e6
        step = tick * steps_per_beat / tpq
        if segments and segments[-1][0] == step:
            segments.pop()  # two tempos at one tick: the last one holds
        if mspq > 0:
            segments.append((step, seconds, mspq / 1e6 / steps_per_beat))
        last_tick, pace = tick, mspq
    return segments or [(0.0, 0.0, DEFAULT_TEMPO / 1e6 / steps_per_beat)]

"""Write a continuation after the prime of an original MIDI file, keeping the prime as it was.

The prime's events (notes, controllers, pedals, pitch bends, tempo, meter and key
changes, in every track, drums included) are copied as they were up to the cut; a note
that sounds past the cut ends there. The generated notes follow from the cut on, added
to the track named for each of them (the instrument of the voice's source track) or
to a new track when a voice has no source. Uses symusic, like :mod:`segue.music.midi`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import symusic

from segue.music.piece import Part


@dataclass(frozen=True)
class Addition:
    """Generated notes for one output track: ``track`` indexes the original score's
    tracks, or is -1 for a new track described by ``part``."""

    notes: np.ndarray  # NOTE_DTYPE; onsets in steps after the cut
    track: int
    part: Part


def _cut_events(events, cut: int):  # type: ignore[no-untyped-def]
    kept = [e for e in events if e.time < cut]
    events.clear()
    events.extend(kept)


def splice(original: symusic.Score, cut_tick: int, steps_per_beat: int, additions: list[Addition]) -> bytes:
    """The original file's parsed score (left as it is) cut at ``cut_tick``, followed by
    ``additions``, as MIDI bytes."""
    score = original.copy()
    ticks_per_step = score.tpq / steps_per_beat
    for track in score.tracks:
        columns = track.notes.numpy()
        keep = columns["time"] < cut_tick
        end = np.minimum(columns["time"] + columns["duration"], cut_tick)
        track.notes = symusic.Note.from_numpy(
            time=columns["time"][keep],
            duration=(end - columns["time"])[keep].astype(np.int32),
            pitch=columns["pitch"][keep],
            velocity=columns["velocity"][keep],
        )
        for events in (track.controls, track.pedals, track.pitch_bends, track.lyrics):
            _cut_events(events, cut_tick)
    for events in (score.tempos, score.time_signatures, score.key_signatures, score.markers):
        _cut_events(events, cut_tick)
    for addition in additions:
        if addition.track >= 0:
            target = score.tracks[addition.track]
        else:
            target = symusic.Track(name=addition.part.name, program=addition.part.program)
            score.tracks.append(target)
        onset = cut_tick + np.round(addition.notes["onset"] * ticks_per_step).astype(np.int64)
        end = cut_tick + np.round((addition.notes["onset"] + addition.notes["duration"]) * ticks_per_step)
        new = symusic.Note.from_numpy(
            time=onset.astype(np.int32),
            duration=np.maximum(end.astype(np.int64) - onset, 1).astype(np.int32),
            pitch=addition.notes["pitch"].astype(np.int8),
            velocity=addition.notes["velocity"].astype(np.int8),
        )
        for note in new:
            target.notes.append(note)
        target.notes.sort()
    return bytes(score.dumps_midi())

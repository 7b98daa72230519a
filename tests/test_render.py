import shutil
from pathlib import Path

import pytest

from segue.errors import SegueError
from segue.music.midi import midi_bytes
from segue.music.piece import Part, Piece, make_notes
from segue.render import render_wav, wav_stats


def two_bars() -> bytes:
    notes = make_notes([0, 16], [16, 16], [60, 67], 100)
    return midi_bytes(Piece(notes, (Part("piano", 0),), tempos=((0, 500_000),)))


def test_midirenderer_writes_audio_of_the_right_length(tmp_path: Path):
    stats = wav_stats(render_wav(two_bars(), tmp_path / "a.wav"))
    assert 4.0 <= stats["seconds"] < 6.0  # two bars of 4/4 at 120 bpm, plus a release tail
    assert stats["peak"] > 0.01 and stats["silent_share"] < 0.9


def test_a_render_longer_than_the_limit_is_refused_and_writes_nothing(tmp_path: Path):
    with pytest.raises(SegueError, match="longer than"):
        render_wav(two_bars(), tmp_path / "a.wav", max_seconds=1.0)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(
    shutil.which("fluidsynth") is None, reason="FluidSynth is not installed (apt-get install fluidsynth)"
)
def test_fluidsynth_renders_within_its_time_limit(tmp_path: Path):
    stats = wav_stats(render_wav(two_bars(), tmp_path / "f.wav", engine="fluidsynth"))
    assert 4.0 <= stats["seconds"] < 8.0 and stats["peak"] > 0.01

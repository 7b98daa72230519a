from pathlib import Path

from segue.cli import main
from segue.data.chorales import load_splits
from segue.music.midi import read_midi
from segue.render import wav_stats


def test_demo_continues_a_held_out_chorale_as_midi_wav_and_png(tmp_path: Path, capsys):
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    prime, midi = tmp_path / "prime.mid", tmp_path / "continuation.mid"
    wav, png = tmp_path / "continuation.wav", tmp_path / "continuation.png"
    for path in (prime, midi, wav, png):
        assert str(path) in out
    shown = out.split("test chorale ", 1)[1].split()[0]
    assert shown.split("#")[0] in load_splits()["test"]
    (original,) = read_midi(prime).pieces
    (continued,) = read_midi(midi).pieces
    cut = (original.first_bar + 4) * original.bar_steps
    assert len(continued.parts) == 4
    generated = continued.notes[continued.notes["onset"] >= cut]
    assert len(generated) > 0 and int((generated["onset"] + generated["duration"]).max()) <= cut + 8 * 16
    stats = wav_stats(wav)
    music = (cut + 8 * 16) / 4 * 0.75  # quarter notes at the chorales' 80 bpm
    assert music * 0.8 < stats["seconds"] < music + 5 and stats["peak"] > 0.02 and stats["silent_share"] < 0.5
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000

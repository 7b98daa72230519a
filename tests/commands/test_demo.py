from pathlib import Path

from segue.cli import main
from segue.data.chorales import load_splits
from segue.music.midi import read_midi


def test_demo_writes_a_test_chorale_as_midi_and_png(tmp_path: Path, capsys):
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    midi, png = tmp_path / "chorale.mid", tmp_path / "chorale.png"
    assert str(midi) in out and str(png) in out
    (piece,) = read_midi(midi).pieces
    shown = out.split("test chorale ", 1)[1].split()[0]
    assert shown.split("#")[0] in load_splits()["test"]
    assert len(piece.parts) == 4 and piece.complete_bars >= 4
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000

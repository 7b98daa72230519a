"""Your own collection: a synthetic collection of eight-part band arrangements with drums, in 6/8
and 4/4, goes through `segue data build`, `segue train` and `segue generate`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from segue.cli import main
from segue.data.dataset import Dataset
from segue.music.midi import read_midi
from segue.pipeline.model import load_model
from segue.pipeline.pieces import as_voices
from tests.band import PARTS, band
from tests.tiny import tiny_toml


def test_a_band_collection_with_drums_builds_trains_and_is_continued(tmp_path: Path, capsys):
    songs = tmp_path / "songs"
    songs.mkdir()
    for seed in range(6):
        (songs / f"jig-{seed}.mid").write_bytes(band((6, 8), bars=8, seed=seed))
        (songs / f"rock-{seed}.mid").write_bytes(band((4, 4), bars=8, seed=seed))
    data = tmp_path / "ds"
    assert main(["data", "build", str(songs), "--out", str(data), "--keep-drums", "--quiet"]) == 0
    dataset = Dataset(data)
    assert len(dataset) == 12 and {m["meter"] for m in dataset.metas} == {"6/8", "4/4"}
    piece = dataset[0]
    assert [p.name for p in piece.parts] == [name for name, _, _ in PARTS] and piece.parts[-1].is_drum
    config = tmp_path / "tiny.toml"
    config.write_text(tiny_toml().replace('meter = "4/4"', 'meter = "6/8"'))
    run = tmp_path / "run"
    assert main(["train", "--data", str(data), "--config", str(config), "--out", str(run), "--quiet"]) == 0
    model = load_model(run / "model")
    assert model.config.meter == "6/8"
    voices = as_voices(piece, model.config)  # what training reads: the pitched parts only
    silent_drums = piece.with_notes(piece.notes[piece.notes["track"] != len(piece.parts) - 1])
    assert len(voices.notes) and np.array_equal(voices.notes, as_voices(silent_drums, model.config).notes)
    out = tmp_path / "out.mid"
    prime = songs / "jig-0.mid"
    code = main(
        [
            "generate",
            str(prime),
            "--model",
            str(run / "model"),
            "--prime-bars",
            "4",
            "--bars",
            "2",
            "--out",
            str(out),
        ]
    )
    assert code == 0, capsys.readouterr().err
    answer = read_midi(out, keep_drums=True).pieces[0]
    assert str(answer.meter) == "6/8"
    after = answer.notes[answer.notes["onset"] >= 4 * answer.bar_steps]
    playing = {answer.parts[t].name for t in np.unique(after["track"])}
    assert playing == {name for name, _, _ in PARTS}  # every part, the drums too, goes on

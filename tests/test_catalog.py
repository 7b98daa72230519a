"""The shipped models' catalog and the rule that picks a model for a file, on a catalog of tiny
models (three meters, two styles) and on the real shipped one."""

from __future__ import annotations

import dataclasses
import shutil
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

import segue
from segue.cli import main
from segue.errors import SegueError
from segue.music.midi import read_midi
from segue.pipeline.catalog import MeterFit, Shelf, choose_model, meter_fit, model_path, shipped_models
from segue.pipeline.model import SegueModel
from tests.smf import TrackBuilder, smf
from tests.tiny import TINY_MODEL

RANGES = ((60, 81), (53, 74), (48, 69), (36, 62))


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> Path:
    """Tiny models: chorales (four voices) in 4/4 and 3/4, folk melodies (one voice) in 6/8 and 3/4."""
    folder = tmp_path_factory.mktemp("models")
    torch.manual_seed(0)
    for name, style, meter, voices in (
        ("chorales", "chorales", "4/4", 4),
        ("chorales-3-4", "chorales", "3/4", 4),
        ("folk-6-8", "folk", "6/8", 1),
        ("folk-3-4", "folk", "3/4", 1),
    ):
        config = dataclasses.replace(
            TINY_MODEL, meter=meter, voices=voices, voice_names=TINY_MODEL.voice_names[:voices]
        )
        model = SegueModel.create(config, {"style": style, "description": f"{style} in {meter}"})
        model.voice_ranges = RANGES[:voices]
        model.save(folder / name)
    return folder


def waltz(bars: int = 3, chords: bool = True, meter: tuple[int, int] = (3, 4)) -> bytes:
    """A melody (with chords) in 3/4 or another meter of three quarters' length (480 ticks per quarter)."""
    track = TrackBuilder().meter(0, *meter)
    for bar in range(bars):
        for beat in range(3):
            track.note(bar * 1440 + beat * 480, 480, 67 + (bar + beat) % 4)
        for pitch in (48, 55, 64) if chords else ():
            track.note(bar * 1440, 1440, pitch, channel=1)
    return smf([track])


def test_the_catalog_lists_every_model_by_style_then_meter(catalog):
    entries = shipped_models(catalog)
    assert [(e.name, e.style, e.meter) for e in entries] == [
        ("chorales-3-4", "chorales", "3/4"),
        ("chorales", "chorales", "4/4"),
        ("folk-3-4", "folk", "3/4"),
        ("folk-6-8", "folk", "6/8"),
    ]
    assert entries[1].description == "chorales in 4/4" and entries[1].voices == 4
    assert entries[3].voices == 1


def test_the_rule_takes_the_meter_then_the_style_then_the_texture(catalog):
    assert choose_model("3/4", folder=catalog).entry.name == "chorales-3-4"  # several parts
    assert choose_model("3/4", folder=catalog, melody=True).entry.name == "folk-3-4"  # one line
    assert choose_model("3/4", "folk", folder=catalog).entry.name == "folk-3-4"  # the style wins
    assert choose_model("3/4", "chorales", folder=catalog, melody=True).entry.name == "chorales-3-4"
    six = choose_model("6/8", folder=catalog)  # the only model in 6/8, though it writes one line
    assert six.entry.name == "folk-6-8"
    assert six.reason == "several parts in 6/8; no 6/8 model for several parts; style folk"
    asked = choose_model("6/8", "chorales", "song.mid", folder=catalog)  # bars of the same length
    assert asked.entry.name == "chorales-3-4" and asked.scale == 1
    assert (
        asked.reason
        == "style chorales asked for, the file is in 6/8, continued in 3/4 bars (no model is in 6/8)"
    )
    five = choose_model("5/4", folder=catalog)  # the nearest bar: 4/4
    assert five.entry.name == "chorales" and five.scale == 1
    assert five.reason == "several parts in 5/4, continued in 4/4 bars (no model is in 5/4); style chorales"


def test_a_meter_no_model_knows_gets_the_nearest_model_that_counts_the_same_way(catalog):
    def pick(meter: str, melody: bool = False) -> tuple[str, str]:
        choice = choose_model(meter, folder=catalog, melody=melody)
        return choice.entry.name, str(choice.scale)

    assert pick("3/8", melody=True) == ("folk-3-4", "2")  # the same beats on a grid twice as fine
    assert pick("3/8") == ("chorales-3-4", "2")
    assert pick("6/4", melody=True) == ("folk-6-8", "1/2")  # six beats, read at half the grid
    assert pick("3/2") == ("chorales-3-4", "1/2")
    assert pick("6/2", melody=True) == ("folk-6-8", "1/4")  # dotted whole notes as dotted quarters
    assert pick("3/16") == ("chorales-3-4", "4")  # sixteenths as quarters, on a grid four times as fine
    assert pick("12/8", melody=True) == ("folk-6-8", "1")  # two 6/8 bars to a bar
    assert pick("9/8", melody=True) == ("folk-6-8", "1")  # dotted beats: the nearest such bar
    assert pick("2/2") == ("chorales", "1")  # a bar of the same length
    assert pick("6/4") == ("chorales-3-4", "1")  # several parts: a model of several voices first
    assert meter_fit("6/8", "6/8") == MeterFit(0, 0.0, Fraction(1))
    assert meter_fit("12/8", "6/8").rank == 2 and meter_fit("9/8", "6/8").rank == 3
    assert meter_fit("9/8", "4/4").rank == 4
    with pytest.raises(SegueError, match="no such style; the shipped styles are chorales, folk"):
        choose_model("4/4", "jazz", folder=catalog)


def test_a_melody_goes_to_a_melody_model_that_reads_its_beats_before_a_model_of_parts_in_its_meter(
    catalog, tmp_path
):
    folder = tmp_path / "models"
    shutil.copytree(catalog, folder)
    config = dataclasses.replace(TINY_MODEL, meter="6/4")  # four voices in 6/4, as the masses in 4/2
    SegueModel.create(config, {"style": "masses", "description": "masses in 6/4"}).save(folder / "masses")
    melody = choose_model("6/4", folder=folder, melody=True)
    assert melody.entry.name == "folk-6-8" and melody.scale == Fraction(1, 2)  # read as 6/8
    assert melody.reason == "a melody in 6/4, read as 6/8 (no 6/4 model for a melody); style folk"
    assert choose_model("6/4", folder=folder).entry.name == "masses"  # parts: the model in 6/4
    assert choose_model("6/4", "masses", folder=folder, melody=True).entry.name == "masses"


def test_a_file_in_3_4_is_continued_by_the_3_4_model_in_its_meter(catalog):
    shelf = Shelf(folder=catalog)
    (result,) = segue.continue_midi(waltz(), bars=2, model=shelf, seed=0)
    assert result.chosen == "chorales-3-4 (several parts in 3/4; style chorales)"
    piece = read_midi(result.midi).pieces[0]
    assert str(piece.meter) == "3/4" and piece.bar_steps == 12
    assert piece.complete_bars == 5  # 3 bars of prime and 2 generated, each a whole 3/4 bar
    (again,) = segue.continue_midi(waltz(), bars=2, model=shelf, seed=0)
    assert again.midi == result.midi
    (folk,) = segue.continue_midi(waltz(), bars=2, model=Shelf("folk", folder=catalog), seed=0)
    assert folk.chosen.startswith("folk-3-4 (style folk asked for")


def test_a_melody_is_continued_as_a_melody_by_a_melody_model(catalog):
    (result,) = segue.continue_midi(waltz(4, chords=False), bars=2, model=Shelf(folder=catalog), seed=0)
    assert result.chosen == "folk-3-4 (a melody in 3/4; style folk)"
    piece = read_midi(result.midi).pieces[0]
    assert len(piece.parts) == 1 and piece.complete_bars == 6
    generated = piece.notes[piece.notes["onset"] >= 4 * 12]
    assert len(generated) > 0 and set(generated["track"]) == {0}


def test_a_melody_in_whole_note_beats_is_read_at_a_quarter_of_the_grid(catalog):
    track = TrackBuilder().meter(0, 3, 1)
    for beat in range(12):  # four bars of 3/1 in whole notes
        track.note(beat * 1920, 1920, 64 + beat % 5)
    (result,) = segue.continue_midi(smf([track]), bars=2, model=Shelf(folder=catalog), seed=0)
    assert result.chosen == "folk-3-4 (a melody in 3/1, read as 3/4 (no model is in 3/1); style folk)"
    piece = read_midi(result.midi).pieces[0]
    assert str(piece.meter) == "3/1" and piece.complete_bars == 6  # two whole 3/1 bars generated
    generated = piece.notes[piece.notes["onset"] >= 4 * piece.bar_steps]
    assert len(generated) > 0 and generated["duration"].min() >= piece.steps_per_beat  # no 3/4 bars' eighths


def test_a_model_and_a_style_together_are_refused(catalog):
    model = SegueModel.create(TINY_MODEL)
    with pytest.raises(SegueError, match="a model or a style, not both"):
        segue.continue_midi(waltz(), bars=1, model=model, style="folk")


def test_segue_models_lists_the_shipped_models_and_the_rule(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["name", "style", "meter", "voices"]
    assert any(line.split()[:4] == ["chorales", "chorales", "4/4", "4"] for line in lines)
    assert "picks the model of the file's meter" in out


def test_generate_continues_a_meter_no_shipped_model_knows_in_its_own_meter(tmp_path, capsys):
    prime = tmp_path / "five.mid"
    track = TrackBuilder().meter(0, 5, 4)
    for beat in range(20):  # four 5/4 bars of a scale, with a held bass
        track.note(beat * 480, 480, 60 + beat % 8).note(beat * 480, 480, 48, channel=1)
    prime.write_bytes(smf([track]))
    out = tmp_path / "out.mid"
    assert main(["generate", str(prime), "--out", str(out), "--bars", "2"]) == 0
    assert "continued in 4/4 bars (no model is in 5/4)" in capsys.readouterr().out
    piece = read_midi(out).pieces[0]
    assert str(piece.meter) == "5/4" and piece.bar_steps == 20
    assert 4 * 20 < piece.end <= 6 * 20  # 4 bars of prime and 2 5/4 bars generated, not 2 4/4 bars more
    out.unlink()
    prime.write_bytes(smf([TrackBuilder().meter(0, 5, 4).note(0, 4 * 2400, 60)]))
    assert main(["generate", str(prime), "--out", str(tmp_path / "o.mid"), "--style", "jazz"]) == 1
    assert "no such style" in capsys.readouterr().err
    assert (
        main(["generate", str(prime), "--out", str(tmp_path / "o.mid"), "--style", "x", "--model", "y"]) == 1
    )
    assert "not both" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["five.mid"]
    assert model_path("chorales") == shipped_models()[0].path.parent / "chorales"
    assert model_path("runs/x/model") == Path("runs/x/model")


def test_evaluate_takes_the_shipped_baselines_made_for_the_models_meter(capsys):
    from segue.commands.evaluate import _baseline
    from segue.pipeline.model import SegueModel, baseline_model_dir

    four = SegueModel.create(TINY_MODEL)
    three = SegueModel.create(dataclasses.replace(TINY_MODEL, meter="3/4"))
    assert _baseline(None, "cvae", four) == baseline_model_dir("cvae")
    assert _baseline(None, "cvae", three) == baseline_model_dir("cvae-3-4")
    assert _baseline(None, "lstm", four) == baseline_model_dir("lstm")
    assert _baseline(None, "lstm", three) == baseline_model_dir("lstm-3-4")
    two = SegueModel.create(dataclasses.replace(TINY_MODEL, meter="2/4"))  # the folk 2/4 model has one voice
    assert _baseline(None, "lstm", two) is None
    assert "no shipped lstm baseline for a 2/4 model of 4 voices: left out" in capsys.readouterr().out
    assert _baseline("none", "cvae", four) is None and _baseline("x/y", "cvae", three) == Path("x/y")
    # of the baselines of a model's shape, the one it was started from: the general model's CVAE
    general = SegueModel.create(TINY_MODEL, {"train": {"init": "src/segue/assets/baselines/cvae-general"}})
    assert _baseline(None, "cvae", general) == baseline_model_dir("cvae-general")
    assert _baseline(None, "lstm", general) == baseline_model_dir("lstm")  # no general LSTM: the chorales'


def test_a_bundled_3_4_chorale_is_continued_by_the_shipped_3_4_model(tmp_path, capsys):
    from segue.data.chorales import load_chorales
    from segue.music.midi import midi_bytes

    chorales = load_chorales()
    prime = tmp_path / "bwv19.7.mid"
    prime.write_bytes(midi_bytes(chorales[chorales.index_of("bwv19.7")]))
    out = tmp_path / "out.mid"
    assert main(["generate", str(prime), "--out", str(out), "--prime-bars", "4", "--bars", "4"]) == 0
    assert "model: chorales-3-4 (several parts in 3/4; style chorales)" in capsys.readouterr().out
    piece = read_midi(out.read_bytes()).pieces[0]
    assert str(piece.meter) == "3/4" and piece.complete_bars == 8 and len(piece.parts) == 4
    generated = piece.notes[piece.notes["onset"] >= (piece.first_bar + 4) * 12]
    assert len(generated) >= 16 and set(np.unique(generated["track"])) == {0, 1, 2, 3}


def test_a_jig_from_the_folk_test_split_is_continued_as_a_melody_by_the_folk_model(tmp_path, capsys):
    from segue.data.dataset import Dataset
    from segue.data.splits import piece_split
    from segue.music.midi import midi_bytes

    folk = Dataset(Path(shipped_models()[0].path).parents[1] / "folk" / "dataset")
    index = next(
        i
        for i, meta in enumerate(folk.metas)
        if meta["meter"] == "6/8" and piece_split(meta) == "test" and meta["bars"] >= 8
    )
    prime = tmp_path / "jig.mid"
    prime.write_bytes(midi_bytes(folk[index]))
    out = tmp_path / "out.mid"
    assert main(["generate", str(prime), "--out", str(out), "--prime-bars", "4", "--bars", "4"]) == 0
    assert "model: folk-6-8 (a melody in 6/8; style folk)" in capsys.readouterr().out
    piece = read_midi(out.read_bytes()).pieces[0]
    assert str(piece.meter) == "6/8" and len(piece.parts) == 1 and piece.complete_bars == 8
    generated = piece.notes[piece.notes["onset"] >= (piece.first_bar + 4) * piece.bar_steps]
    assert len(generated) >= 8
    ends = generated["onset"] + generated["duration"]
    assert np.all(ends[:-1] <= generated["onset"][1:])  # one line: each note ends before the next


def test_a_mass_section_in_4_2_goes_to_the_palestrina_model_on_its_half_grid(tmp_path, capsys):
    track = TrackBuilder().meter(0, 4, 2)
    for bar in range(4):  # four bars of 4/2: semibreves in three voices
        for half in range(2):
            start = bar * 3840 + half * 1920
            for channel, pitch in enumerate((72, 67, 60)):
                track.note(start, 1920, pitch - 2 * ((bar + half) % 3) + channel % 2, channel=channel)
    prime = tmp_path / "kyrie.mid"
    prime.write_bytes(smf([track]))
    out = tmp_path / "out.mid"
    assert main(["generate", str(prime), "--out", str(out), "--bars", "2"]) == 0
    assert "model: palestrina (several parts in 4/2; style palestrina)" in capsys.readouterr().out
    piece = read_midi(out).pieces[0]
    assert str(piece.meter) == "4/2" and 4 * 32 < piece.end <= 6 * 32


def test_several_parts_in_2_4_go_to_the_2_4_general_model_and_a_tune_to_the_folk_model():
    # no style model of several parts is in 2/4: a model of the file's texture in its meter comes
    # before a melody model of its meter and before the chorales' 4/4 bars
    parts = choose_model("2/4")
    assert parts.entry.name == "general-2-4" and parts.reason == "several parts in 2/4; style general"
    assert choose_model("2/4", melody=True).entry.name == "folk-2-4"

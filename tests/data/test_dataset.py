from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segue.data.dataset import Dataset, DatasetWriter, piece_from_meta, piece_to_meta
from segue.data.splits import split_pieces
from segue.errors import SegueError
from tests.strategies import example_pieces, pieces


@settings(max_examples=50, deadline=None)
@given(pieces())
def test_metadata_round_trip(piece):
    assert piece_from_meta(piece_to_meta(piece), piece.notes) == piece


def test_writer_shards_and_reader_gives_back_every_piece(tmp_path: Path):
    examples = example_pieces(12)
    with DatasetWriter(tmp_path / "ds", shard_notes=40) as writer:
        for i, piece in enumerate(examples):
            writer.add_piece(piece, source=f"file{i}.mid")
        writer.close()
    dataset = Dataset(tmp_path / "ds")
    assert len(dataset) == 12
    assert len(dataset.info["shards"]) > 1
    assert dataset.info["notes"] == sum(len(p.notes) for p in examples)
    for i, piece in enumerate(examples):
        got = dataset[i]
        assert np.array_equal(got.notes, piece.notes)
        assert (got.meter, got.pickup, got.parts, got.tempos) == (
            piece.meter,
            piece.pickup,
            piece.parts,
            piece.tempos,
        )
        assert dataset.metas[i]["source"] == f"file{i}.mid"
    assert isinstance(dataset.notes(0), np.memmap) or isinstance(dataset.notes(0).base, np.memmap)
    assert [p.name for p in dataset] == [p.name for p in examples]
    assert [p.name for p in dataset[10:]] == [p.name for p in examples[10:]]
    assert [p.name for p in dataset[::5]] == [examples[k].name for k in (0, 5, 10)]
    with pytest.raises(IndexError):
        dataset.notes(12)


def test_a_failed_build_leaves_no_folder(tmp_path: Path):
    with pytest.raises(RuntimeError), DatasetWriter(tmp_path / "ds") as writer:
        writer.add_piece(example_pieces(1)[0])
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_existing_dataset_is_kept_unless_overwrite(tmp_path: Path):
    (piece,) = example_pieces(1)
    with DatasetWriter(tmp_path / "ds") as writer:
        writer.add_piece(piece)
        writer.close()
    with pytest.raises(SegueError, match="already exists"):
        DatasetWriter(tmp_path / "ds")
    with DatasetWriter(tmp_path / "ds", overwrite=True) as writer:
        writer.add_piece(piece)
        writer.add_piece(piece)
        writer.close()
    assert len(Dataset(tmp_path / "ds")) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]


@given(st.binary(max_size=64))
def test_a_folder_that_is_not_a_dataset_is_refused(data: bytes):
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "dataset.json").write_bytes(data)
        with pytest.raises(SegueError):
            Dataset(folder)


def test_overwrite_never_replaces_a_folder_that_is_not_a_dataset(tmp_path: Path):
    music = tmp_path / "Music"
    music.mkdir()
    (music / "keep.mid").write_bytes(b"precious")
    with pytest.raises(SegueError, match="not a segue dataset"):
        DatasetWriter(music, overwrite=True)
    assert (music / "keep.mid").read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Music"]


def test_a_split_recorded_by_the_build_wins_over_the_name_hash(tmp_path: Path):
    from segue.commands.train import training_pieces
    from segue.data.splits import piece_split, split_of

    examples = [replace(p, name=f"tune{i}") for i, p in enumerate(example_pieces(6))]
    hashed = [split_of(p.name) for p in examples]
    recorded = ["valid", "test", "train", "train", "valid", "bogus"]
    with DatasetWriter(tmp_path / "ds") as writer:
        for piece, split in zip(examples, recorded):
            writer.add(piece.notes, {**piece_to_meta(piece), "split": split})
        writer.close()
    metas = Dataset(tmp_path / "ds").metas
    assert [piece_split(m) for m in metas] == [*recorded[:5], hashed[5]]  # an unknown split: the hash
    train, valid, _ = training_pieces(tmp_path / "ds")
    assert [p.name for p in valid] == ["tune0", "tune4"] + (["tune5"] if hashed[5] == "valid" else [])
    assert [p.name for p in train][:2] == ["tune2", "tune3"]


def test_the_calibration_reads_one_half_of_the_validation_pieces_and_models_are_chosen_on_the_other(
    tmp_path: Path, monkeypatch
):
    import segue.training.trainer
    from segue.cli import main
    from segue.music.piece import Meter
    from segue.training.calibration import validation_half
    from tests.tiny import TINY_MODEL, tiny_toml

    examples = [replace(p, name=f"tune{i}") for i, p in enumerate(example_pieces(9))]
    examples[3] = replace(examples[3], meter=Meter(3, 4))  # not the model's meter: in neither half
    calibration = validation_half(examples, TINY_MODEL, "calibration")
    choice = validation_half(examples, TINY_MODEL, "choice")
    assert [p.name for p in calibration] == ["tune0", "tune2", "tune5", "tune7"]
    assert [p.name for p in choice] == ["tune1", "tune4", "tune6", "tune8"]

    with DatasetWriter(tmp_path / "ds") as writer:
        for piece in examples:
            writer.add(piece.notes, {**piece_to_meta(piece), "split": "valid"})
        writer.add(
            examples[0].notes, {**piece_to_meta(replace(examples[0], name="train0")), "split": "train"}
        )
        writer.close()
    given: dict[str, list[str]] = {}

    def spy(*args, held_out=(), **kwargs):  # type: ignore[no-untyped-def]
        given["held_out"] = [p.name for p in held_out]
        raise SegueError("stopped before training")

    monkeypatch.setattr(segue.training.trainer, "Trainer", spy)
    (tmp_path / "tiny.toml").write_text(tiny_toml())
    run = ["train", "--data", str(tmp_path / "ds"), "--config", str(tmp_path / "tiny.toml")]
    assert main([*run, "--out", str(tmp_path / "run")]) != 0
    assert given["held_out"] == [p.name for p in calibration]


def test_the_sections_of_one_work_go_to_one_half_of_the_validation_pieces(tmp_path: Path):
    """A calibration that read one section of a mass would flatter the draws of its others."""
    from segue.training.calibration import validation_half
    from tests.tiny import TINY_MODEL

    works = ["Missa A (I)", "", "Missa A (II)", "Missa B", "", "Missa B", "Missa C", "", "Missa C"]
    with DatasetWriter(tmp_path / "ds") as writer:
        for i, (piece, work) in enumerate(zip(example_pieces(len(works)), works)):
            section = replace(piece, name=f"s{i}", extra={"work": work} if work else {})
            writer.add(piece.notes, {**piece_to_meta(section), "split": "valid"})
        writer.close()
    pieces = split_pieces(tmp_path / "ds", "valid")
    assert [p.extra.get("work", "") for p in pieces] == works  # kept through the dataset
    calibration = [p.name for p in validation_half(pieces, TINY_MODEL, "calibration")]
    choice = [p.name for p in validation_half(pieces, TINY_MODEL, "choice")]
    # the masses alternate by title (A's two masses share one), the other pieces among themselves
    assert calibration == ["s0", "s1", "s2", "s6", "s7", "s8"]
    assert choice == ["s3", "s4", "s5"]


def test_a_piece_counting_the_same_beats_on_as_many_steps_a_bar_is_read_in_the_models_meter():
    from segue.music.piece import Meter
    from segue.pipeline.pieces import on_grid
    from segue.training.windows import WindowSampler
    from tests.tiny import TINY_MODEL

    piece = example_pieces(1)[0]  # 4/4 at 4 steps per quarter note: 16 steps a bar
    assert on_grid(piece, TINY_MODEL) is piece
    half_notes = replace(piece, meter=Meter(4, 2), steps_per_beat=2)  # 4/2 at 2: 16 steps a bar too
    read = on_grid(half_notes, TINY_MODEL)
    assert read is not None and str(read.meter) == "4/4" and read.steps_per_beat == 4
    assert np.array_equal(read.notes, piece.notes)
    assert on_grid(replace(piece, meter=Meter(3, 4)), TINY_MODEL) is None  # another bar
    assert on_grid(replace(piece, meter=Meter(2, 2)), TINY_MODEL) is None  # 16 steps, but 2 beats
    long = replace(piece, notes=np.concatenate([piece.notes] * 3))  # enough bars for a window
    assert len(WindowSampler([replace(long, meter=Meter(4, 2), steps_per_beat=2)], TINY_MODEL, 0)) == len(
        WindowSampler([long], TINY_MODEL, 0)
    )


def test_a_piece_whose_bars_hold_whole_model_bars_is_cut_into_them():
    from segue.music.piece import Meter
    from segue.pipeline.pieces import cut_bars
    from tests.tiny import TINY_MODEL

    two_four = replace(TINY_MODEL, meter="2/4")  # 8 steps a bar, beats of 4 steps
    piece = replace(example_pieces(1)[0], pickup=12)  # 4/4 with a pickup of three beats
    cut = cut_bars(piece, two_four)
    assert cut is not None and str(cut.meter) == "2/4" and cut.bar_steps == 8
    # every bar line still falls on a bar line: the same notes, the pickup what is left of it
    assert cut.pickup == 4 and np.array_equal(cut.notes, piece.notes)
    assert cut.n_bars * 8 >= piece.end
    palestrina = replace(piece, meter=Meter(4, 2), steps_per_beat=2, pickup=0)  # 4 beats of 4 steps
    assert cut_bars(palestrina, two_four) is not None
    three_four = replace(piece, meter=Meter(3, 4), pickup=0)  # 12 steps: no whole 2/4 bars
    assert cut_bars(three_four, two_four) is None
    assert cut_bars(replace(piece, meter=Meter(2, 2), pickup=0), two_four) is None  # beats of 8 steps, not 4
    six_eight = replace(TINY_MODEL, meter="6/8")
    twelve = replace(piece, meter=Meter(12, 8), pickup=0)  # 24 steps, eighths of 2 steps
    assert cut_bars(twelve, six_eight) is not None and cut_bars(piece, six_eight) is None

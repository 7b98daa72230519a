import dataclasses
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from segue.cli import main
from segue.data.chorales import load_chorales, split_indices
from segue.errors import SegueError
from segue.models.losses import GanLoss
from segue.music.midi import read_midi
from segue.music.piece import Meter
from segue.training.checkpoint import list_checkpoints
from segue.training.trainer import Trainer, TrainingDiverged
from segue.training.windows import WindowSampler
from tests.ports import free_port
from tests.tiny import TINY_MODEL, TINY_SAMPLER, TINY_TRAIN, tiny_toml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pieces():
    chorales = load_chorales()
    train = [chorales[i] for i in split_indices(chorales, "train")[:40]]
    valid = [chorales[i] for i in split_indices(chorales, "valid")[:2]]
    return train, valid


def test_tiny_training_through_the_cli_writes_the_whole_run_directory(tmp_path: Path, capsys):
    (tmp_path / "tiny.toml").write_text(tiny_toml())
    run = tmp_path / "run"
    assert main(["train", "--out", str(run), "--config", str(tmp_path / "tiny.toml"), "--quiet"]) == 0
    assert "trained 6 steps" in capsys.readouterr().out
    config = (run / "config.toml").read_text()
    assert (
        "git_commit" in config
        and "segue_version" in config
        and "lr_g" in config
        and "channels = 16" in config
    )
    rows = (run / "metrics.csv").read_text().splitlines()
    assert rows[0].startswith("step,loss_d,loss_g") and len(rows) == 7
    assert any(p.name.startswith("events.out.tfevents") for p in (run / "tensorboard").iterdir())
    assert [p.name for p in list_checkpoints(run / "checkpoints")] == [
        "step-0000004.safetensors",
        "step-0000006.safetensors",
    ]
    samples = sorted((run / "samples" / "step-0000006").iterdir())
    assert {p.suffix for p in samples} == {".mid", ".png"}
    midi = next(p for p in samples if p.suffix == ".mid")
    (piece,) = read_midi(midi).pieces
    assert piece.complete_bars >= TINY_MODEL.context_bars
    assert sorted(p.name for p in (run / "model").iterdir()) == [
        "config.json",
        "model.safetensors",
        "sampler",
    ]


def _train_subprocess(run: Path, config: Path, *extra: str, fault_at: int | None = None) -> int:
    cmd = [
        sys.executable,
        "-m",
        "tests.faults",
        "train",
        str(fault_at or 0),
        "train",
        "--out",
        str(run),
        "--config",
        str(config),
        "--quiet",
        *extra,
    ]
    return subprocess.run(cmd, capture_output=True, timeout=300, cwd=ROOT).returncode


def test_resume_after_sigkill_reproduces_the_uninterrupted_run(tmp_path: Path):
    config = tmp_path / "tiny.toml"
    config.write_text(tiny_toml(steps=8, checkpoint_every=3, sample_every=100))
    assert _train_subprocess(tmp_path / "whole", config) == 0
    assert _train_subprocess(tmp_path / "killed", config, fault_at=5) == -9  # SIGKILL after step 5
    assert [p.name for p in list_checkpoints(tmp_path / "killed" / "checkpoints")][
        -1
    ] == "step-0000003.safetensors"
    assert not (tmp_path / "killed" / "model").exists()
    assert _train_subprocess(tmp_path / "killed", config, "--resume") == 0
    whole = load_file(tmp_path / "whole" / "model" / "model.safetensors")
    resumed = load_file(tmp_path / "killed" / "model" / "model.safetensors")
    assert whole.keys() == resumed.keys()
    assert all(torch.equal(whole[k], resumed[k]) for k in whole)
    rows = (tmp_path / "killed" / "metrics.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == [str(s) for s in range(1, 9)]


def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path: Path, pieces, monkeypatch):
    from segue.training import gan

    train, _ = pieces
    trainer = Trainer(tmp_path, TINY_MODEL, TINY_TRAIN, train, sampler_config=TINY_SAMPLER, progress=False)
    hinge = gan.HINGE

    def g_loss(scores: torch.Tensor) -> torch.Tensor:
        return hinge.g(scores) * (float("nan") if trainer.step >= 3 else 1.0)

    monkeypatch.setattr(gan, "HINGE", GanLoss("broken", hinge.d_real, hinge.d_fake, g_loss))
    with pytest.raises(TrainingDiverged, match="at step 4"):
        trainer.run()
    assert [p.name for p in list_checkpoints(tmp_path / "checkpoints")] == ["step-0000002.safetensors"]
    assert not (tmp_path / "model").exists()


def _ddp_worker(rank: int, world: int, folder: str, port: int) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world))
    torch.set_num_threads(1)
    chorales = load_chorales()
    train = [chorales[i] for i in split_indices(chorales, "train")[:30]]
    trainer = Trainer(
        Path(folder) / "run", TINY_MODEL, TINY_TRAIN, train, progress=False, sampler_config=TINY_SAMPLER
    )
    for _ in range(3):
        trainer.train_step()
        trainer.step += 1
    state = {f"g.{k}": v.contiguous() for k, v in trainer.G.state_dict().items()}
    state.update({f"d.{k}": v.contiguous() for k, v in trainer.D.state_dict().items()})
    save_file(
        state,
        Path(folder) / f"rank{rank}.safetensors",
        metadata={"seed": str(trainer.data_rng.initial_seed())},
    )
    torch.distributed.destroy_process_group()


def test_distributed_data_parallel_keeps_replicas_identical(tmp_path: Path):
    import torch.multiprocessing as mp

    port = free_port()
    mp.spawn(_ddp_worker, args=(2, str(tmp_path), port), nprocs=2, join=True)
    a, b = (load_file(tmp_path / f"rank{r}.safetensors") for r in (0, 1))
    seeds = [safe_open(str(tmp_path / f"rank{r}.safetensors"), "pt").metadata()["seed"] for r in (0, 1)]
    assert seeds[0] != seeds[1], "the ranks must see different data"
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_a_used_run_directory_needs_resume_and_the_same_model(tmp_path: Path, capsys):
    (tmp_path / "tiny.toml").write_text(tiny_toml(steps=2, checkpoint_every=2, sample_every=100))
    run = ["train", "--out", str(tmp_path / "run"), "--config", str(tmp_path / "tiny.toml"), "--quiet"]
    assert main(run) == 0
    assert main(run) == 1 and "use --resume" in capsys.readouterr().err
    other = tiny_toml(steps=4, checkpoint_every=2, sample_every=100).replace("channels = 16", "channels = 32")
    (tmp_path / "other.toml").write_text(other)
    resume = [
        "train",
        "--out",
        str(tmp_path / "run"),
        "--config",
        str(tmp_path / "other.toml"),
        "--resume",
        "--quiet",
    ]
    assert main(resume) == 1 and "another model config" in capsys.readouterr().err


def test_a_checkpoint_saved_before_a_setting_existed_resumes_with_its_default(tmp_path: Path, capsys):
    (tmp_path / "tiny.toml").write_text(tiny_toml(steps=2, checkpoint_every=2, sample_every=100))
    run = ["train", "--out", str(tmp_path / "run"), "--config", str(tmp_path / "tiny.toml"), "--quiet"]
    assert main(run) == 0
    (path,) = list_checkpoints(tmp_path / "run" / "checkpoints")[-1:]
    with safe_open(str(path), "pt") as handle:
        metadata = handle.metadata()
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    meta = json.loads(metadata["segue"])
    del meta["info"]["model"]["plan_pull"]  # as a version before the setting wrote it
    save_file(tensors, str(path), metadata={**metadata, "segue": json.dumps(meta)})
    (tmp_path / "more.toml").write_text(tiny_toml(steps=4, checkpoint_every=2, sample_every=100))
    resume = ["train", "--out", str(tmp_path / "run"), "--config", str(tmp_path / "more.toml"), "--resume"]
    assert main([*resume, "--quiet"]) == 0
    assert "trained 4 steps" in capsys.readouterr().out
    meta["info"]["model"]["unheard_of"] = 1  # a setting from a later version: refused
    save_file(tensors, str(path), metadata={**metadata, "segue": json.dumps(meta)})
    for stale in list_checkpoints(tmp_path / "run" / "checkpoints"):
        if stale != path:
            stale.unlink()
    assert main([*resume, "--quiet"]) == 1 and "another model config" in capsys.readouterr().err


@pytest.mark.parametrize("options", [{"mismatch": 0.0}, {"method": "cvae"}, {"reconstruction": 0.5}])
def test_every_method_and_option_trains(tmp_path: Path, pieces, options):
    model = TINY_MODEL
    config = dataclasses.replace(TINY_TRAIN, steps=2, **options)
    trainer = Trainer(tmp_path, model, config, pieces[0], progress=False, sampler_config=TINY_SAMPLER)
    before = [p.detach().clone() for p in trainer.G.parameters()]
    values = trainer.train_step()
    assert all(math.isfinite(v) for v in values.values())
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.G.parameters()))
    if config.reconstruction > 0:
        assert values["reconstruction"] > 0 and trainer.E is not None
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in trainer.E.parameters())
        Trainer(tmp_path / "run", model, config, pieces[0], progress=False, sampler_config=TINY_SAMPLER).run()
        header = (tmp_path / "run" / "metrics.csv").read_text().splitlines()[0].split(",")
        assert {"loss_g", "reconstruction", "kl"} <= set(header)


def test_init_starts_g_from_a_model_folder_and_d_only_from_a_gan_with_the_same_d(tmp_path: Path, pieces):
    from segue.pipeline.model import SegueModel

    torch.manual_seed(123)
    start = SegueModel.create(TINY_MODEL, {"method": "cvae"}).save(tmp_path / "start")
    trainer = Trainer(tmp_path / "a", TINY_MODEL, dataclasses.replace(TINY_TRAIN, init=str(start)), pieces[0])
    fresh = Trainer(tmp_path / "b", TINY_MODEL, TINY_TRAIN, pieces[0], sampler_config=TINY_SAMPLER)
    saved = load_file(str(start / "model.safetensors"))
    for name, value in trainer.G.state_dict().items():
        assert torch.equal(value, saved[f"generator.{name}"])
        assert torch.equal(trainer.ema.state_dict()[name], value)
    assert not all(torch.equal(a, b) for a, b in zip(trainer.G.parameters(), fresh.G.parameters()))
    # a CVAE's D was never trained: D starts fresh
    assert all(torch.equal(a, b) for a, b in zip(trainer.D.parameters(), fresh.D.parameters()))
    # another D, or dropout (no tensors of its own), may start from the same G
    other_d = dataclasses.replace(TINY_MODEL, d_channels=32)
    Trainer(tmp_path / "c", other_d, dataclasses.replace(TINY_TRAIN, init=str(start)), pieces[0])
    dropped = dataclasses.replace(TINY_MODEL, dropout=0.3)
    init = dataclasses.replace(TINY_TRAIN, init=str(start))
    regularized = Trainer(tmp_path / "c2", dropped, init, pieces[0])
    assert all(torch.equal(v, saved[f"generator.{k}"]) for k, v in regularized.G.state_dict().items())
    # a GAN with the same settings brings its D along
    gan = SegueModel.create(TINY_MODEL, {"method": "gan"}).save(tmp_path / "gan")
    with_d = Trainer(tmp_path / "d", TINY_MODEL, dataclasses.replace(TINY_TRAIN, init=str(gan)), pieces[0])
    gan_saved = load_file(str(gan / "model.safetensors"))
    for name, value in with_d.D.state_dict().items():
        assert torch.equal(value, gan_saved[f"discriminator.{name}"])
    # and so it does for a run that differs only in dropout (D has none)
    init_gan = dataclasses.replace(TINY_TRAIN, init=str(gan))
    dropped_d = Trainer(tmp_path / "d2", dropped, init_gan, pieces[0])
    assert all(torch.equal(v, gan_saved[f"discriminator.{k}"]) for k, v in dropped_d.D.state_dict().items())
    # another generator is refused with one line
    wider = dataclasses.replace(TINY_MODEL, channels=32)
    with pytest.raises(SegueError, match="generator settings differ"):
        Trainer(tmp_path / "e", wider, dataclasses.replace(TINY_TRAIN, init=str(start)), pieces[0])


def test_the_trained_model_carries_a_sampler_counted_on_its_data(tmp_path: Path, pieces):
    from segue.pipeline.model import load_model
    from segue.sampler import PlainSampler, VoiceLeadingSampler

    config = dataclasses.replace(TINY_TRAIN, steps=1)
    settings = dataclasses.replace(TINY_SAMPLER, strength=0.5, parallels=2.0)
    Trainer(tmp_path / "a", TINY_MODEL, config, pieces[0], sampler_config=settings, progress=False).run()
    sampler = load_model(tmp_path / "a" / "model").sampler
    assert isinstance(sampler, VoiceLeadingSampler) and (sampler.strength, sampler.parallels) == (0.5, 2.0)
    assert (tmp_path / "a" / "model" / "sampler" / "sampler.safetensors").is_file()
    pitches = TINY_MODEL.vocab - 2
    size = 2 * pitches + 1
    assert sampler.potentials.shape == (TINY_MODEL.voices, TINY_MODEL.steps_per_bar, size, size)
    assert sampler.calibration is not None and sampler.calibration.moves.abs().sum() > 0
    plain = dataclasses.replace(settings, strength=0.0, parallels=0.0)
    Trainer(tmp_path / "b", TINY_MODEL, config, pieces[0], sampler_config=plain, progress=False).run()
    assert isinstance(load_model(tmp_path / "b" / "model").sampler, PlainSampler)
    assert not (tmp_path / "b" / "model" / "sampler").exists()
    uncalibrated = dataclasses.replace(settings, calibration_rounds=0)
    Trainer(tmp_path / "c", TINY_MODEL, config, pieces[0], sampler_config=uncalibrated, progress=False).run()
    sampler = load_model(tmp_path / "c" / "model").sampler
    assert isinstance(sampler, VoiceLeadingSampler) and sampler.calibration is None


def test_calibration_reads_the_held_out_pieces_and_is_reproducible(tmp_path: Path, pieces, monkeypatch):
    from segue.sampler import VoiceLeadingSampler
    from segue.training import calibration

    seen: list[int] = []
    calibrate = calibration.calibrate

    def spy(sampler, draw, contexts, reals, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(len(contexts))
        return calibrate(sampler, draw, contexts, reals, *args, **kwargs)

    monkeypatch.setattr(calibration, "calibrate", spy)
    config = dataclasses.replace(TINY_TRAIN, steps=1)
    settings = dataclasses.replace(TINY_SAMPLER, calibration_windows=5)
    kwargs = {"sampler_config": settings, "progress": False}
    first = Trainer(tmp_path / "a", TINY_MODEL, config, pieces[0], **kwargs).run()
    again = Trainer(tmp_path / "b", TINY_MODEL, config, pieces[0], **kwargs).run()
    held = Trainer(tmp_path / "c", TINY_MODEL, config, pieces[0], held_out=pieces[1], **kwargs)
    held.run()
    assert seen[0] == seen[1] == 5 and seen[2] == 5 + len(WindowSampler(pieces[1], TINY_MODEL, 0))
    assert isinstance(first.sampler, VoiceLeadingSampler) and isinstance(again.sampler, VoiceLeadingSampler)
    assert first.sampler.calibration is not None and again.sampler.calibration is not None
    for name, weights in first.sampler.calibration.tensors().items():
        assert torch.equal(weights, again.sampler.calibration.tensors()[name])


def test_the_voice_head_trains_is_calibrated_and_continues(tmp_path: Path, pieces):
    from segue.models.generator import VoiceHead
    from segue.pipeline.model import load_model
    from segue.pipeline.sampling import continue_tokens
    from segue.sampler import VoiceLeadingSampler

    model = dataclasses.replace(TINY_MODEL, head="voices")
    config = dataclasses.replace(TINY_TRAIN, steps=2, reconstruction=0.5)  # both G's draw and its rebuild
    settings = dataclasses.replace(TINY_SAMPLER, vertical=True)
    trainer = Trainer(tmp_path / "run", model, config, pieces[0], sampler_config=settings, progress=False)
    before = [p.detach().clone() for p in trainer.G.out.parameters()]
    trainer.run()
    assert all(not torch.equal(a, b) for a, b in zip(before, trainer.G.out.parameters()))
    loaded = load_model(tmp_path / "run" / "model")
    assert isinstance(loaded.generator.out, VoiceHead) and isinstance(loaded.sampler, VoiceLeadingSampler)
    assert loaded.sampler.calibration is not None and loaded.sampler.calibration.vertical is not None
    shape = (2, model.voices, model.context_steps)
    prime = torch.randint(2, model.vocab, shape, generator=torch.Generator().manual_seed(0))
    prime[:, :, 1::2] = 1  # every note held for two steps
    drawn = [
        continue_tokens(loaded.generator, prime, 3, torch.Generator().manual_seed(s), sampler=loaded.sampler)
        for s in (5, 5, 6)
    ]
    assert drawn[0].shape == (2, model.voices, 3 * model.steps_per_bar)
    assert torch.equal(drawn[0], drawn[1]) and not torch.equal(drawn[0], drawn[2])


def test_init_from_another_meter_takes_every_tensor_whose_shape_fits(tmp_path: Path, capsys):
    from segue.pipeline.model import SegueModel

    chorales = load_chorales()
    waltzes = [chorales[i] for i in split_indices(chorales, "train") if str(chorales[i].meter) == "3/4"]
    torch.manual_seed(123)
    start = SegueModel.create(TINY_MODEL, {"method": "cvae"}).save(tmp_path / "start")
    in_3_4 = dataclasses.replace(TINY_MODEL, meter="3/4")
    trainer = Trainer(
        tmp_path / "a",
        in_3_4,
        dataclasses.replace(TINY_TRAIN, init=str(start)),
        waltzes,
        sampler_config=TINY_SAMPLER,
        progress=False,
    )
    fresh = Trainer(tmp_path / "b", in_3_4, TINY_TRAIN, waltzes)
    saved = load_file(str(start / "model.safetensors"))
    taken, new = [], []
    for name, value in trainer.G.state_dict().items():
        theirs = saved[f"generator.{name}"]
        if theirs.shape == value.shape:
            assert torch.equal(value, theirs)
            taken.append(name)
        else:  # the conditioner's bar-wide convolution: 3 beats to a bar, not 4
            assert torch.equal(value, fresh.G.state_dict()[name])
            new.append(name)
    assert new == ["conditioner.down.2.conv.weight"] and len(taken) > 20
    assert f"{len(taken)} of {len(taken) + 1} of G's tensors taken" in capsys.readouterr().out
    trainer.run()  # and it trains on 3/4 windows of 12 steps a bar
    assert trainer.windows.pieces == len(waltzes)


def test_init_from_another_grid_takes_what_fits(tmp_path: Path, capsys):
    from segue.pipeline.model import SegueModel

    torch.manual_seed(5)
    start = SegueModel.create(TINY_MODEL, {"method": "cvae"}).save(tmp_path / "start")
    half = dataclasses.replace(TINY_MODEL, meter="4/2", steps_per_beat=2)  # also 16 steps a bar
    chorale = load_chorales()[0]
    as_4_2 = chorale.with_notes(chorale.notes, meter=Meter(4, 2), steps_per_beat=2)  # the same steps
    trainer = Trainer(
        tmp_path / "a", half, dataclasses.replace(TINY_TRAIN, init=str(start)), [as_4_2], progress=False
    )
    out = capsys.readouterr().out
    assert "(4/4, 4 steps per beat)" in out and "fresh for this meter: conditioner.down.1.conv.weight" in out
    saved = load_file(str(start / "model.safetensors"))
    assert torch.equal(
        trainer.G.state_dict()["stages.0.0.conv.weight"], saved["generator.stages.0.0.conv.weight"]
    )


def test_textures_are_calibrated_apart_when_both_have_windows(tmp_path: Path, pieces):
    from segue.pipeline.model import load_model
    from segue.sampler import TexturedSampler, VoiceLeadingSampler
    from segue.sampler.textured import TexturedRhythm

    train = pieces[0]
    melodies = [dataclasses.replace(p, notes=p.notes[p.notes["track"] == 0]) for p in train[20:]]
    config = dataclasses.replace(TINY_TRAIN, steps=1)
    settings = dataclasses.replace(TINY_SAMPLER, calibration_windows=400, textures=True, rhythm_draws=2)
    kwargs = {"sampler_config": settings, "progress": False}
    Trainer(tmp_path / "a", TINY_MODEL, config, train[:20] + melodies, **kwargs).run()
    sampler = load_model(tmp_path / "a" / "model").sampler
    assert isinstance(sampler, TexturedSampler) and list(sampler.samplers) == ["melody", "parts"]
    melody, parts = (sampler.samplers[name].calibration for name in ("melody", "parts"))
    assert melody is not None and parts is not None
    # a melody's lower voices are silent: the melody calibration learns that, the parts one the reverse
    assert not torch.equal(melody.moves, parts.moves)
    assert melody.moves[1:, :, 0].mean() > parts.moves[1:, :, 0].mean()
    # the rhythm choice is counted apart too: in a melody at most one voice strikes at a step
    assert isinstance(sampler.rhythm, TexturedRhythm) and list(sampler.rhythm.choices) == ["melody", "parts"]
    together = {name: one.real_strikes[:, 2:].sum() for name, one in sampler.rhythm.choices.items()}
    assert together["melody"] < 0.1 * together["parts"]
    Trainer(tmp_path / "b", TINY_MODEL, config, train[:20], **kwargs).run()  # parts only: one calibration
    assert isinstance(load_model(tmp_path / "b" / "model").sampler, VoiceLeadingSampler)


def test_the_part_music_of_each_style_is_calibrated_apart_and_read_from_the_context(tmp_path: Path, pieces):
    from segue.pipeline.model import load_model
    from segue.sampler import TexturedSampler
    from segue.sampler.textured import TexturedRhythm, kinds

    train = pieces[0]

    def staggered(piece):  # each voice's notes a step later than the voice above: never struck together
        notes = piece.notes.copy()
        notes["onset"] += notes["track"]
        return dataclasses.replace(piece, notes=notes, extra={"style": "staggered"})

    named = [dataclasses.replace(p, extra={"style": "chordal"}) for p in train[:20]]
    named += [staggered(p) for p in train[20:]]
    config = dataclasses.replace(TINY_TRAIN, steps=1)
    settings = dataclasses.replace(
        TINY_SAMPLER, calibration_windows=400, textures=True, styles=True, rhythm_draws=2
    )
    Trainer(tmp_path / "a", TINY_MODEL, config, named, sampler_config=settings, progress=False).run()
    sampler = load_model(tmp_path / "a" / "model").sampler
    assert isinstance(sampler, TexturedSampler) and sampler.reader is not None
    assert list(sampler.samplers) == ["chordal", "staggered"] and sampler.reader.names == [
        "chordal",
        "staggered",
    ]
    assert isinstance(sampler.rhythm, TexturedRhythm) and list(sampler.rhythm.choices) == [
        "chordal",
        "staggered",
    ]
    chordal, staggered_one = (sampler.samplers[name].calibration for name in ("chordal", "staggered"))
    assert chordal is not None and staggered_one is not None
    assert not torch.equal(chordal.moves, staggered_one.moves)
    # contexts of the pieces it never saw are read as their style
    windows = WindowSampler([dataclasses.replace(p, extra={}) for p in pieces[1]], TINY_MODEL, 0)
    context = windows.windows(torch.arange(len(windows)))[0]
    shifted = WindowSampler([staggered(p) for p in pieces[1]], TINY_MODEL, 0)
    both = torch.cat([context, shifted.windows(torch.arange(len(shifted)))[0]])
    found = {name: rows.tolist() for name, rows in kinds(both, sampler.reader)}
    assert found == {"chordal": list(range(len(context))), "staggered": list(range(len(context), len(both)))}
    # without styles named, or with one, the calibration is by texture as before
    plain = [dataclasses.replace(p, extra={}) for p in named]
    Trainer(tmp_path / "b", TINY_MODEL, config, plain, sampler_config=settings, progress=False).run()
    assert getattr(load_model(tmp_path / "b" / "model").sampler, "reader", None) is None


def test_the_calibration_draws_under_the_key_prior_it_is_told(tmp_path: Path, pieces):
    from segue.pipeline.model import load_model

    config = dataclasses.replace(TINY_TRAIN, steps=1)
    calibrations = {}
    for name, strength in (("plain", 0.0), ("key", 3.0)):
        settings = dataclasses.replace(TINY_SAMPLER, calibration_windows=200, key_strength=strength)
        kwargs = {"sampler_config": settings, "progress": False}
        Trainer(tmp_path / name, TINY_MODEL, config, pieces[0][:20], **kwargs).run()
        model = load_model(tmp_path / name / "model")
        assert model.info["sampler"]["key_strength"] == strength
        calibrations[name] = model.sampler.calibration
    plain, key = calibrations["plain"], calibrations["key"]
    # a strong key prior keeps the draws off the pitch classes the context never sounds (rank 12),
    # so the calibration, fitted under it, weighs them up more than the one fitted without it
    assert key.tonal[:, 12].mean() > plain.tonal[:, 12].mean()


def test_a_rhythm_choice_is_counted_on_the_training_windows_and_the_samplers_own_draws(
    tmp_path: Path, pieces
):
    from segue.pipeline.model import load_model
    from segue.sampler import VoiceLeadingSampler

    config = dataclasses.replace(TINY_TRAIN, steps=1)
    settings = dataclasses.replace(TINY_SAMPLER, calibration_windows=100, rhythm_draws=3, rhythm_weight=0.7)
    Trainer(tmp_path / "a", TINY_MODEL, config, pieces[0][:20], sampler_config=settings, progress=False).run()
    sampler = load_model(tmp_path / "a" / "model").sampler
    assert isinstance(sampler, VoiceLeadingSampler) and sampler.rhythm is not None
    assert (sampler.rhythm.draws, sampler.rhythm.weight) == (3, pytest.approx(0.7))
    real, drawn = sampler.rhythm.real, sampler.rhythm.drawn
    assert real.shape == (TINY_MODEL.steps_per_bar, drawn.shape[1])
    # Bach's notes last through the beat; an untrained generator's end at once
    assert drawn[0, 1] > 2 * real[0, 1]

"""The sampler's section of a model folder: ``sampler/config.json`` + ``sampler/sampler.safetensors``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from segue.errors import SegueError
from segue.pipeline.model import SegueModel, load_model
from segue.sampler import Calibration, PlainSampler, VoiceLeadingSampler
from segue.sampler.states import MOVE_CLASSES, REGISTER_CLASSES, TONAL_CLASSES, allowed_moves
from tests.sampler.flat import flat_potentials
from tests.tiny import TINY_MODEL

C = TINY_MODEL
PITCHES = C.vocab - 2
SIZE = 2 * PITCHES + 1


def refused(folder: Path, match: str) -> str:
    """The one-line error that loading ``folder`` gives, checked against ``match``."""
    with pytest.raises(SegueError, match=match) as caught:
        load_model(folder)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_a_folder_without_a_sampler_section_is_sampled_plainly(tmp_path: Path):
    model = SegueModel.create(C)
    assert isinstance(model.sampler, PlainSampler)
    model.save(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["config.json", "model.safetensors"]
    assert isinstance(load_model(tmp_path / "m").sampler, PlainSampler)
    model.sampler = VoiceLeadingSampler(flat_potentials(C.voices, PITCHES))
    model.save(tmp_path / "m")
    assert (tmp_path / "m" / "sampler").is_dir()
    model.sampler = PlainSampler()
    model.save(tmp_path / "m")  # saving the plain sampler over it drops the section
    assert not (tmp_path / "m" / "sampler").exists()
    assert isinstance(load_model(tmp_path / "m").sampler, PlainSampler)


def test_a_voice_leading_sampler_travels_with_the_model_folder(tmp_path: Path):
    potentials = torch.randn(C.voices, 1, SIZE, SIZE).masked_fill(~allowed_moves(PITCHES), -math.inf)
    model = SegueModel.create(C)
    model.sampler = VoiceLeadingSampler(potentials, strength=0.5, parallels=3.0)
    folder = model.save(tmp_path / "m")
    section = folder / "sampler"
    assert sorted(p.name for p in section.iterdir()) == ["config.json", "sampler.safetensors"]
    loaded = load_model(folder)
    sampler = loaded.sampler
    assert isinstance(sampler, VoiceLeadingSampler) and torch.equal(sampler.potentials, potentials)
    assert (sampler.strength, sampler.parallels) == (0.5, 3.0) and sampler.calibration is None
    assert "sampler" not in loaded.info and "sampling" not in loaded.info
    document = json.loads((section / "config.json").read_text())
    document["parallels"] = -4
    (section / "config.json").write_text(json.dumps(document))
    refused(folder, "bad sampler settings")
    document["parallels"] = 4
    (section / "config.json").write_text(json.dumps(document))
    assert load_model(folder).sampler.parallels == 4
    weights = load_file(section / "sampler.safetensors")
    save_file({"potentials": torch.zeros(C.voices, 5, 5)}, section / "sampler.safetensors")
    assert str(section / "sampler.safetensors") in refused(folder, "potentials must have shape")
    (section / "sampler.safetensors").write_bytes(b"\x00" * 20)
    assert str(section / "sampler.safetensors") in refused(folder, "unreadable")
    save_file(weights, section / "sampler.safetensors")
    (section / "config.json").write_text(json.dumps({**document, "kind": "mystery"}))
    assert str(section / "config.json") in refused(folder, "unknown sampler kind")


def test_a_calibrated_sampler_travels_with_the_model_folder(tmp_path: Path):
    potentials = flat_potentials(C.voices, PITCHES, C.steps_per_bar)
    calibration = Calibration(
        torch.randn(C.voices, C.steps_per_bar, MOVE_CLASSES).clamp(-3, 3),
        torch.randn(C.voices, TONAL_CLASSES).clamp(-3, 3),
        torch.randn(C.voices, REGISTER_CLASSES).clamp(-3, 3),
        torch.randn(C.voices).clamp(-3, 3),
        torch.randn(C.voices, C.steps_per_bar).clamp(-3, 3),
        torch.randn(C.voices, MOVE_CLASSES).clamp(-3, 3),
    )
    model = SegueModel.create(C)
    model.sampler = VoiceLeadingSampler(potentials, calibration=calibration)
    folder = model.save(tmp_path / "m")
    loaded = load_model(folder).sampler
    assert isinstance(loaded, VoiceLeadingSampler) and loaded.calibration is not None
    assert torch.equal(loaded.potentials, potentials)
    for name, weights in calibration.tensors().items():
        assert torch.equal(loaded.calibration.tensors()[name], weights)
    path = folder / "sampler" / "sampler.safetensors"
    weights = load_file(path)
    save_file({k: v for k, v in weights.items() if not k.endswith(".seam")}, path)
    assert str(path) in refused(folder, "the calibration needs")  # every group is required
    weights["calibration.echo"] = torch.zeros(C.voices + 1)
    save_file(weights, path)
    assert str(folder / "sampler") in refused(folder, "calibration echo must have shape")
    del weights["potentials"]
    save_file(weights, path)
    assert str(path) in refused(folder, "potentials must have shape")

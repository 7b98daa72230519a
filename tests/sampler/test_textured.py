"""A sampler calibrated apart for melodies and for parts: which windows each draws, its choice among
draws by rhythm counted apart too, and its folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from segue.errors import SegueError
from segue.music.tokens import FIRST_PITCH as P0
from segue.music.tokens import HOLD, REST
from segue.pipeline.model import SegueModel, load_model
from segue.sampler import TexturedSampler, VoiceLeadingSampler
from segue.sampler.states import MOVE_CLASSES
from segue.sampler.textured import TexturedRhythm, textures
from tests.sampler.flat import flat_potentials, flat_sampler
from tests.sampler.test_rhythm import choice_between, lengths_grid
from tests.tiny import TINY_MODEL

C = TINY_MODEL
PITCHES = C.vocab - 2
STEPS = C.steps_per_bar


def two_textures() -> TexturedSampler:
    """Melodies drawn with a calibration that all but forbids rests, parts with one that favours them."""
    rest_weight = torch.zeros(C.voices, STEPS, MOVE_CLASSES)
    rest_weight[..., [0, 3]] = 1.0  # rest to rest, a note to rest (see segue.sampler.states)
    melody = flat_sampler(C.voices, PITCHES, STEPS, moves=-4.0 * rest_weight)
    parts = flat_sampler(C.voices, PITCHES, STEPS, moves=4.0 * rest_weight)
    return TexturedSampler({"melody": melody, "parts": parts})


def contexts(batch: int) -> torch.Tensor:
    """(batch, V, S) contexts: even rows a melody (the top voice alone), odd rows four parts."""
    context = torch.full((batch, C.voices, STEPS), REST)
    context[:, 0, ::2], context[:, 0, 1::2] = P0 + 30, HOLD
    context[1::2, 1:, :] = P0 + 20
    return context


def test_a_context_is_a_melody_when_at_most_one_voice_sounds():
    context = torch.full((4, C.voices, STEPS), REST)
    context[1, 2, 3] = P0 + 5  # one voice, not the top one
    context[2, 0, 0], context[2, 3, 5] = P0 + 5, P0 + 1
    context[3] = P0 + 9
    assert textures(context).tolist() == [0, 0, 1, 1]


def test_each_window_is_drawn_with_its_texture_s_calibration():
    sampler = two_textures()
    batch = 8
    context = contexts(batch)
    logits = torch.randn(batch, C.voices, C.vocab, STEPS, generator=torch.Generator().manual_seed(1))
    drawn = sampler.draw(logits, context, torch.Generator().manual_seed(0))
    rng = torch.Generator().manual_seed(0)  # the same numbers: melodies first, then parts
    melody = sampler.samplers["melody"].draw(logits[0::2], context[0::2], rng)
    parts = sampler.samplers["parts"].draw(logits[1::2], context[1::2], rng)
    assert torch.equal(drawn[0::2], melody) and torch.equal(drawn[1::2], parts)
    assert (drawn[0::2] == REST).float().mean() < 0.2 < (drawn[1::2] == REST).float().mean()


def test_voice_by_voice_logits_are_read_for_the_texture_s_rows_only():
    sampler = two_textures()
    batch = 6
    context = contexts(batch)
    base = torch.randn(batch, C.voices, C.vocab, STEPS, generator=torch.Generator().manual_seed(2))

    def bonus(above: torch.Tensor | None) -> torch.Tensor:  # row by row: the voice just above
        if above is None:
            return torch.zeros(())
        return 3.0 * torch.nn.functional.one_hot(above[:, -1], C.vocab).transpose(1, 2).float()

    def writer(v: int, above: torch.Tensor | None) -> torch.Tensor:
        return base[:, v] + bonus(above)

    drawn = sampler.draw(writer, context, torch.Generator().manual_seed(0))
    rng = torch.Generator().manual_seed(0)
    expected = [
        sampler.samplers[name].draw(
            lambda v, above, rows=rows: base[rows, v] + bonus(above), context[rows], rng
        )
        for name, rows in (("melody", slice(0, None, 2)), ("parts", slice(1, None, 2)))
    ]
    assert torch.equal(drawn[0::2], expected[0]) and torch.equal(drawn[1::2], expected[1])


def test_a_texture_without_its_own_calibration_draws_with_the_parts_one():
    parts = flat_sampler(C.voices, PITCHES, STEPS)
    sampler = TexturedSampler({"parts": parts})
    assert sampler.for_texture("melody") is parts
    with pytest.raises(ValueError, match="named"):
        TexturedSampler({"drums": parts})


def test_a_textured_sampler_is_saved_and_loaded_with_each_calibration(tmp_path: Path):
    model = SegueModel.create(C)
    model.sampler = two_textures()
    model.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m").sampler
    assert isinstance(loaded, TexturedSampler) and list(loaded.samplers) == ["melody", "parts"]
    for name, one in model.sampler.samplers.items():
        back = loaded.samplers[name]
        assert isinstance(back, VoiceLeadingSampler) and back.calibration is not None
        assert one.calibration is not None
        assert torch.equal(back.calibration.moves, one.calibration.moves)
    context = contexts(4)
    logits = torch.randn(4, C.voices, C.vocab, STEPS, generator=torch.Generator().manual_seed(3))
    first = model.sampler.draw(logits, context, torch.Generator().manual_seed(5))
    assert torch.equal(loaded.draw(logits, context, torch.Generator().manual_seed(5)), first)
    config = tmp_path / "m" / "sampler" / "config.json"
    config.write_text(config.read_text().replace('"melody"', '"drums"'))
    with pytest.raises(SegueError, match="textures must be a list") as caught:
        load_model(tmp_path / "m")
    assert "\n" not in str(caught.value)


def test_a_textured_folder_with_a_tensor_of_no_texture_is_refused(tmp_path: Path):
    model = SegueModel.create(C)
    model.sampler = two_textures()
    model.save(tmp_path / "m")
    weights = tmp_path / "m" / "sampler" / "sampler.safetensors"
    tensors = load_file(weights)
    tensors["calibration.drums.moves"] = tensors["calibration.melody.moves"].clone()
    save_file(tensors, weights)
    with pytest.raises(SegueError, match=r"unknown tensors calibration\.drums\.moves"):
        load_model(tmp_path / "m")


def test_a_kind_of_context_may_keep_a_chain_of_its_own_in_the_model_folder(tmp_path: Path):
    melody = flat_sampler(C.voices, PITCHES, STEPS)
    other = flat_potentials(C.voices, PITCHES, STEPS)
    other[torch.isfinite(other)] = 0.5  # the same allowed moves, other weights
    model = SegueModel.create(C)
    model.sampler = TexturedSampler({"melody": melody, "parts": VoiceLeadingSampler(other, 1.0, 0.0)})
    folder = model.save(tmp_path / "m")
    weights = folder / "sampler" / "sampler.safetensors"
    assert sorted(k for k in load_file(weights) if k.startswith("potentials")) == [
        "potentials",
        "potentials.parts",
    ]
    loaded = load_model(folder).sampler
    assert isinstance(loaded, TexturedSampler)
    assert torch.equal(loaded.samplers["parts"].potentials, other)
    assert torch.equal(loaded.samplers["melody"].potentials, melody.potentials)
    tensors = load_file(weights)
    tensors["potentials.drums"] = tensors.pop("potentials.parts")
    save_file(tensors, weights)
    with pytest.raises(SegueError, match="chains of their own must be named") as caught:
        load_model(folder)
    assert "\n" not in str(caught.value)
    narrow = flat_potentials(C.voices, PITCHES, 1)  # a chain of another shape (any position)
    with pytest.raises(ValueError, match="share their chain's shape"):
        TexturedSampler({"melody": melody, "parts": VoiceLeadingSampler(narrow, 1.0, 0.0)})


def rhythm_per_texture(draws: int = 2) -> TexturedRhythm:
    """Melodies' tables favour notes of 8 steps, the parts' notes of 2."""
    return TexturedRhythm(
        {"melody": choice_between(2, 8, draws=draws), "parts": choice_between(8, 2, draws=draws)}
    )


def test_a_rhythm_choice_per_texture_weighs_each_window_by_its_context_s_tables():
    windows = 100
    short, long = lengths_grid(2, windows)[:, :, :STEPS], lengths_grid(8, windows)[:, :, :STEPS]
    candidates = torch.from_numpy(np.stack([short, long], 1).reshape(2 * windows, C.voices, STEPS))
    context = contexts(windows).repeat_interleave(2, dim=0)  # each window's context beside both candidates
    choice = rhythm_per_texture()
    kept = choice.choose(candidates, PITCHES, torch.Generator().manual_seed(0), context)
    is_long = [torch.equal(k, candidates[1]) for k in kept]
    assert sum(is_long[0::2]) >= 45  # the melodies keep the long notes
    assert sum(is_long[1::2]) <= 5  # the parts the short ones
    with pytest.raises(ValueError, match="context of every candidate"):
        choice.choose(candidates, PITCHES, torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="share their draws"):
        TexturedRhythm({"melody": choice_between(2, 8, draws=2), "parts": choice_between(8, 2, draws=4)})


def test_a_rhythm_choice_per_texture_travels_with_the_model_folder(tmp_path: Path):
    model = SegueModel.create(C)
    model.sampler = two_textures()
    model.sampler.rhythm = rhythm_per_texture(draws=3)
    folder = model.save(tmp_path / "m")
    loaded = load_model(folder).sampler
    assert isinstance(loaded, TexturedSampler) and isinstance(loaded.rhythm, TexturedRhythm)
    assert list(loaded.rhythm.choices) == ["melody", "parts"] and loaded.rhythm.draws == 3
    for name, table in model.sampler.rhythm.tensors().items():
        assert torch.equal(loaded.rhythm.tensors()[name], table)
    weights = folder / "sampler" / "sampler.safetensors"
    save_file({k: v for k, v in load_file(weights).items() if k != "rhythm.parts.real"}, weights)
    with pytest.raises(SegueError, match=r"rhythm\.\[TEXTURE\.\]real") as caught:
        load_model(folder)
    assert str(weights) in str(caught.value) and "\n" not in str(caught.value)

"""Reading a context's style from its notes, and a sampler calibrated apart for the part music of
each style: which windows each calibration draws, and its folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from segue.errors import SegueError
from segue.music.tokens import FIRST_PITCH as P0
from segue.music.tokens import HOLD, REST
from segue.pipeline.model import SegueModel, load_model
from segue.sampler import TexturedSampler
from segue.sampler.states import MOVE_CLASSES
from segue.sampler.styles import StyleReader, context_features
from segue.sampler.textured import TexturedRhythm, kinds
from tests.sampler.flat import flat_sampler
from tests.sampler.test_rhythm import choice_between
from tests.tiny import TINY_MODEL

C = TINY_MODEL
PITCHES = C.vocab - 2
STEPS = C.steps_per_bar


def test_context_features_sum_up_each_voice_and_the_bar():
    context = torch.full((1, 2, 8), REST)
    context[0, 0] = torch.tensor([5, HOLD, REST, 7, HOLD, 9, REST, REST])
    features = context_features(context, positions=4)
    sounds, strikes, mean, spread, steps = features[0, :10].view(5, 2).T[0]
    assert (sounds, strikes) == (5 / 8, 3 / 8)
    assert mean == pytest.approx(7.0) and spread == pytest.approx((8 / 3) ** 0.5) and steps == 2.0
    # notes start at steps 0, 3 and 5: positions 0, 3 and 1 of a bar of 4
    assert features[0, 10:14].tolist() == pytest.approx([1 / 3, 1 / 3, 0, 1 / 3])
    assert features[0, 14:].tolist() == [1.0, 1.0, 0.0]  # one voice sounds, one strikes, never two


def chordal(batch: int, seed: int) -> torch.Tensor:
    """(batch, V, S) contexts whose voices strike together on every beat (a chorale's habit)."""
    rng = torch.Generator().manual_seed(seed)
    context = torch.full((batch, C.voices, 2 * STEPS), HOLD)
    pitches = P0 + torch.randint(10, 40, (batch, C.voices, 2 * STEPS // 4), generator=rng)
    context[..., ::4] = pitches
    return context


def staggered(batch: int, seed: int) -> torch.Tensor:
    """(batch, V, S) contexts whose voices each strike on a beat of their own, in long notes."""
    rng = torch.Generator().manual_seed(seed)
    context = torch.full((batch, C.voices, 2 * STEPS), HOLD)
    for v in range(C.voices):
        starts = torch.arange(2 * v, 2 * STEPS, 8)
        context[:, v, starts] = P0 + torch.randint(10, 40, (batch, len(starts)), generator=rng)
        context[:, v, : 2 * v] = REST
    return context


def reader_of_two(seed: int = 0) -> StyleReader:
    contexts = torch.cat([chordal(60, seed), staggered(60, seed)])
    labels = torch.tensor([0] * 60 + [1] * 60)
    return StyleReader.fit(contexts, labels, ["chorales", "palestrina"], STEPS)


def test_a_style_reader_tells_styles_apart_on_contexts_it_was_not_fitted_on():
    reader = reader_of_two()
    assert reader(chordal(40, seed=7)).tolist() == [0] * 40
    assert reader(staggered(40, seed=7)).tolist() == [1] * 40
    again = reader_of_two()  # fitting is deterministic
    assert torch.equal(again.weight, reader.weight) and torch.equal(again.bias, reader.bias)


def test_a_style_reader_needs_two_names_and_weights_of_their_shape():
    reader = reader_of_two()
    w, b, m, s = reader.weight, reader.bias, reader.mean, reader.scale
    with pytest.raises(ValueError, match="two or more distinct names"):
        StyleReader(["chorales"], w[:1], b[:1], m, s, STEPS)
    with pytest.raises(ValueError, match="without dots"):
        StyleReader(["a.b", "c"], w, b, m, s, STEPS)
    with pytest.raises(ValueError, match=r"weight \(K, F\)"):
        StyleReader(["a", "b"], torch.cat([w, w[:1]]), b, m, s, STEPS)
    with pytest.raises(ValueError, match=r"mean and scale must be \(F,\)"):
        StyleReader(["a", "b"], w[:, :-1], b, m, s, STEPS)
    with pytest.raises(ValueError, match="scale positive"):
        StyleReader(["a", "b"], w, b, m, -s, STEPS)


def rests_favoured(weight: float):
    """A flat sampler whose calibration weighs rests by e^weight."""
    rest_weight = torch.zeros(C.voices, STEPS, MOVE_CLASSES)
    rest_weight[..., [0, 3]] = 1.0  # rest to rest, a note to rest (see segue.sampler.states)
    return flat_sampler(C.voices, PITCHES, STEPS, moves=weight * rest_weight)


def by_style() -> TexturedSampler:
    """Melodies and the chorales all but never rest; Palestrina's parts mostly do."""
    samplers = {"melody": rests_favoured(-4.0), "chorales": rests_favoured(-4.0)}
    return TexturedSampler({**samplers, "palestrina": rests_favoured(4.0)}, reader=reader_of_two())


def mixed(batch: int) -> torch.Tensor:
    """(batch, V, 2 bars): rows 0, 3, 6 ... a melody, 1, 4, ... chordal, 2, 5, ... staggered."""
    context = chordal(batch, seed=3)
    context[2::3] = staggered(batch, seed=3)[2::3]
    context[0::3, 1:] = REST
    return context


def test_each_window_of_parts_is_drawn_with_the_calibration_of_the_style_it_reads_as():
    sampler = by_style()
    batch = 9
    context = mixed(batch)
    assert [(name, rows.tolist()) for name, rows in kinds(context, sampler.reader)] == [
        ("melody", [0, 3, 6]),
        ("chorales", [1, 4, 7]),
        ("palestrina", [2, 5, 8]),
    ]
    logits = torch.randn(batch, C.voices, C.vocab, STEPS, generator=torch.Generator().manual_seed(1))
    drawn = sampler.draw(logits, context, torch.Generator().manual_seed(0))
    rng = torch.Generator().manual_seed(0)  # the same numbers: melodies, then the styles in order
    for name, rows in (("melody", slice(0, None, 3)), ("chorales", slice(1, None, 3))):
        alone = sampler.samplers[name].draw(logits[rows], context[rows], rng)
        assert torch.equal(drawn[rows], alone)
    assert (drawn[1::3] == REST).float().mean() < 0.2 < (drawn[2::3] == REST).float().mean()


def test_a_sampler_by_style_needs_a_calibration_for_every_style_it_reads():
    sampler = by_style()
    with pytest.raises(ValueError, match="needs a calibration"):
        TexturedSampler({"melody": sampler.samplers["melody"]}, reader=sampler.reader)
    with pytest.raises(ValueError, match="named from"):
        TexturedSampler({**sampler.samplers, "folk": sampler.samplers["melody"]}, reader=sampler.reader)


def test_a_sampler_by_style_travels_with_the_model_folder(tmp_path: Path):
    model = SegueModel.create(C)
    model.sampler = by_style()
    model.sampler.rhythm = TexturedRhythm(
        {name: choice_between(2, 8, draws=2) for name in ("melody", "chorales", "palestrina")},
        model.sampler.reader,
    )
    folder = model.save(tmp_path / "m")
    loaded = load_model(folder).sampler
    assert isinstance(loaded, TexturedSampler) and loaded.reader is not None
    assert loaded.reader.names == ["chorales", "palestrina"]
    assert isinstance(loaded.rhythm, TexturedRhythm) and loaded.rhythm.reader is not None
    context = mixed(6)
    logits = torch.randn(6, C.voices, C.vocab, STEPS, generator=torch.Generator().manual_seed(3))
    first = model.sampler.draw(logits, context, torch.Generator().manual_seed(5))
    assert torch.equal(loaded.draw(logits, context, torch.Generator().manual_seed(5)), first)
    weights = folder / "sampler" / "sampler.safetensors"
    save_file({k: v for k, v in load_file(weights).items() if k != "styles.scale"}, weights)
    with pytest.raises(SegueError, match="style reader needs") as caught:
        load_model(folder)
    assert "\n" not in str(caught.value)

"""The model shipped in the package: it loads, is small, and its D judges the pair."""

import torch

from segue import load_model
from segue.data.chorales import load_chorales, split_indices
from segue.models.blocks import onehot
from segue.pipeline.model import default_model_dir
from segue.training.windows import WindowSampler


def test_the_shipped_model_is_a_small_safetensors_folder():
    folder = default_model_dir()
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors", "sampler"]
    # the 256-channel model of 2026-12-04 is 22 MiB (G, D, sampler): the cap keeps it from growing unseen
    assert sum(p.stat().st_size for p in folder.rglob("*")) < 32 * 2**20
    model = load_model()
    assert model.info["trained_steps"] > 0 and "chorales" in model.info["data"]


def test_discriminator_scores_drop_when_priors_and_continuations_are_shuffled_across_pieces():
    model = load_model()
    config = model.config
    chorales = load_chorales()
    pieces = [chorales[i] for i in split_indices(chorales, "test")]
    sampler = WindowSampler(pieces, config, max_transpose=0)
    # One window per test piece (its first), so that a shuffle always pairs two different pieces.
    piece_of_window = torch.searchsorted(sampler.piece_starts, sampler.starts, right=True)
    first = torch.tensor([int((piece_of_window == p).nonzero()[0]) for p in piece_of_window.unique()])
    prior, real = sampler.windows(first)
    prior, real = onehot(prior, config.vocab), onehot(real, config.vocab)
    with torch.no_grad():
        matched = model.discriminator(prior, real)
        shuffled = model.discriminator(prior, real.roll(1, dims=0))
    assert len(first) >= 30
    assert matched.mean() > shuffled.mean()
    assert (matched > shuffled).float().mean() > 0.6


def test_a_short_prime_is_preceded_by_its_own_bars_and_every_voice_goes_on():
    import numpy as np

    from segue.music.midi import midi_bytes
    from segue.pipeline.continuation import _fill_context, continue_midi

    bars = np.arange(3 * 4).reshape(1, 1, 12)  # three bars of four steps
    filled = _fill_context(bars, 16, 4)
    assert filled[0, 0].tolist() == [8, 9, 10, 11, *range(12)]  # the last bar, then the three
    assert _fill_context(bars[:, :, :2], 6, 4)[0, 0, :4].tolist() == [0] * 4  # no whole bar: rests
    assert _fill_context(bars, 12, 4) is bars

    # a test chorale cut to its first two bars, continued after one: the model once answered a
    # context of three silent bars and this one with the bass alone for three bars
    chorales = load_chorales()
    piece = next(chorales[i] for i in split_indices(chorales, "test") if chorales[i].name == "bwv324#2")
    (result,) = continue_midi(midi_bytes(piece), 4, prime_bars=1, seed=0, name="bwv324#2.mid")
    answer = result.piece
    written = answer.notes[answer.notes["onset"] >= result.seam_step]
    assert written.size and set(np.unique(written["track"]).tolist()) == {0, 1, 2, 3}
    first_bar = written[written["onset"] < result.seam_step + answer.bar_steps]
    assert len(np.unique(first_bar["track"])) == 4

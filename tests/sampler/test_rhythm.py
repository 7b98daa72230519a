"""Choosing among draws by their notes' lengths: the lengths read, the hazards counted, the choice,
the continuation that makes it and the model folder that keeps it."""

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
from segue.pipeline.sampling import continue_tokens
from segue.sampler import VoiceLeadingSampler
from segue.sampler.rhythm import LONGEST, RhythmChoice, hazards, note_lengths, strikes
from segue.sampler.states import MOVE_CLASSES
from tests.sampler.flat import flat_potentials, flat_sampler
from tests.tiny import TINY_MODEL

C = TINY_MODEL
PITCHES = C.vocab - 2
BAR = C.steps_per_bar


def line(*notes: tuple[int, int], steps: int = BAR) -> np.ndarray:
    """(steps,) tokens of one voice: (pitch or REST, length) notes one after the other, then holds."""
    tokens = np.full(steps, HOLD)
    at = 0
    for pitch, length in notes:
        tokens[at] = pitch
        at += length
    return tokens


def lengths_grid(length: int, windows: int) -> np.ndarray:
    """(windows, V, 2 bars) every voice a run of notes of ``length`` steps from the bar line."""
    count = 2 * BAR // length
    one = line(*[(P0 + 20 + i % 3, length) for i in range(count)], steps=2 * BAR)
    return np.tile(one, (windows, C.voices, 1))


def test_note_lengths_count_the_notes_struck_in_the_window():
    grid = np.stack([line((HOLD, 2), (P0 + 5, 4), (REST, 2), (P0 + 7, 1), (P0 + 9, 7))])[None]
    window, start, length, ended = note_lengths(grid, PITCHES)
    # the leading hold belongs to a note struck before; the last note still sounds at the end
    assert start.tolist() == [2, 8, 9] and length.tolist() == [4, 1, 7]
    assert ended.tolist() == [True, True, False] and window.tolist() == [0, 0, 0]


def test_hazards_read_where_notes_end():
    quarters = hazards(lengths_grid(4, 3), PITCHES, BAR)  # every note 4 steps, struck on the beats
    assert quarters.shape == (BAR, LONGEST + 1)
    assert (quarters[0, 1:4] < 0.05).all() and quarters[0, 4] > 0.9
    assert quarters[1, 4] == pytest.approx(0.5)  # no note starts off the beat: nothing counted


def same_strikes() -> torch.Tensor:
    """(M, V + 1) voices striking together, the same in the real music and the draw."""
    return torch.full((BAR, C.voices + 1), 1 / (C.voices + 1))


def choice_between(short: int, long: int, weight: float = 1.0, draws: int = 2) -> RhythmChoice:
    """A choice whose real music holds notes ``long`` steps where the draw mixes both lengths."""
    real = hazards(lengths_grid(long, 8), PITCHES, BAR)
    drawn = hazards(np.concatenate([lengths_grid(short, 8), lengths_grid(long, 8)]), PITCHES, BAR)
    together = same_strikes()
    return RhythmChoice(torch.from_numpy(real), torch.from_numpy(drawn), together, together, draws, weight)


def test_the_choice_keeps_the_candidate_whose_lengths_the_real_music_has():
    choice = choice_between(2, 8)
    windows = 100
    candidates = np.stack([lengths_grid(2, windows)[:, :, :BAR], lengths_grid(8, windows)[:, :, :BAR]], 1)
    candidates = torch.from_numpy(candidates.reshape(2 * windows, C.voices, BAR))  # a window's two together
    kept = choice.choose(candidates, PITCHES, torch.Generator().manual_seed(0))
    assert kept.shape == (windows, C.voices, BAR)
    long_kept = sum(int(torch.equal(k, candidates[1])) for k in kept)
    assert long_kept >= 95
    again = choice.choose(candidates, PITCHES, torch.Generator().manual_seed(0))
    assert torch.equal(kept, again)
    # half the weight goes half the way: fewer windows keep the long notes
    half = choice_between(2, 8, weight=0.05).choose(candidates, PITCHES, torch.Generator().manual_seed(0))
    assert sum(int(torch.equal(k, candidates[1])) for k in half) < long_kept


def test_strikes_count_the_voices_that_strike_together():
    grid = lengths_grid(4, 2)[:, :, :BAR]  # every voice on every beat
    grid[:, 1:, 4] = HOLD  # the lower three hold through the second beat
    together = strikes(grid, PITCHES, BAR)
    assert together.shape == (BAR, C.voices + 1) and np.allclose(together.sum(axis=1), 1)
    assert together[0].argmax() == C.voices and together[4].argmax() == 1 and together[1].argmax() == 0


def test_the_choice_keeps_the_candidate_whose_voices_strike_as_the_real_ones():
    apart = lengths_grid(4, 50)[:, :, :BAR]
    apart[:, 1:, 4] = HOLD  # the top voice alone on the second beat
    candidates = torch.from_numpy(
        np.stack([lengths_grid(4, 50)[:, :, :BAR], apart], 1).reshape(100, C.voices, BAR)
    )
    drawn = hazards(candidates.numpy(), PITCHES, BAR)  # the lengths say nothing: the same on both sides
    real_strikes, drawn_strikes = strikes(apart, PITCHES, BAR), strikes(candidates.numpy(), PITCHES, BAR)
    choice = RhythmChoice(*(torch.from_numpy(t) for t in (drawn, drawn, real_strikes, drawn_strikes)), 2, 1.0)
    kept = choice.choose(candidates, PITCHES, torch.Generator().manual_seed(0))
    assert sum(int(torch.equal(k, candidates[1])) for k in kept) >= 45


def test_the_choice_refuses_bad_tables():
    real = torch.full((BAR, LONGEST + 1), 0.3)
    together = same_strikes()
    with pytest.raises(ValueError, match="hazards must both have shape"):
        RhythmChoice(real, real[:, :5], together, together, 4, 0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        RhythmChoice(real, torch.ones_like(real), together, together, 4, 0.5)
    with pytest.raises(ValueError, match="strikes must both have shape"):
        RhythmChoice(real, real, together, together[:, :2], 4, 0.5)
    with pytest.raises(ValueError, match="above 0"):
        RhythmChoice(real, real, together, torch.zeros_like(together), 4, 0.5)
    with pytest.raises(ValueError, match="draws"):
        RhythmChoice(real, real, together, together, 1, 0.5)


def mean_length(tokens: torch.Tensor) -> float:
    _, _, length, ended = note_lengths(tokens.numpy(), PITCHES)
    return float(length[ended].mean())


def test_a_continuation_with_the_choice_writes_the_lengths_asked_for():
    torch.manual_seed(0)
    model = SegueModel.create(C)
    holds = torch.zeros(C.voices, BAR, MOVE_CLASSES)
    holds[..., 2] = 4.0  # a note going on (see segue.sampler.states): notes of many lengths
    sampler = flat_sampler(C.voices, PITCHES, BAR, moves=holds)
    context = torch.from_numpy(lengths_grid(4, 64)[:, :, : C.context_steps]).long()

    def run(chosen: VoiceLeadingSampler, seed: int) -> torch.Tensor:
        return continue_tokens(
            model.generator, context, 2, torch.Generator().manual_seed(seed), sampler=chosen
        )

    alone = run(sampler, 0)
    drawn = torch.from_numpy(hazards(alone.numpy(), PITCHES, BAR))
    longer = drawn / 2  # music whose notes end half as often at every length and position
    together = same_strikes()
    chosen = sampler.with_rhythm(RhythmChoice(longer, drawn, together, together, 16, 1.0))
    picked = run(chosen, 0)
    assert picked.shape == alone.shape == (64, C.voices, 2 * BAR)
    assert mean_length(picked) > 1.2 * mean_length(alone)
    assert torch.equal(picked, run(chosen, 0)) and not torch.equal(picked, run(chosen, 1))


def test_the_choice_travels_with_the_model_folder(tmp_path: Path):
    model = SegueModel.create(C)
    model.sampler = VoiceLeadingSampler(flat_potentials(C.voices, PITCHES, BAR)).with_rhythm(
        choice_between(2, 8, weight=0.5, draws=6)
    )
    folder = model.save(tmp_path / "m")
    loaded = load_model(folder).sampler
    assert isinstance(loaded, VoiceLeadingSampler) and loaded.rhythm is not None
    assert (loaded.rhythm.draws, loaded.rhythm.weight) == (6, 0.5)
    for name, table in model.sampler.rhythm.tensors().items():
        assert torch.equal(loaded.rhythm.tensors()[name], table)
    path = folder / "sampler" / "sampler.safetensors"
    save_file({k: v for k, v in load_file(path).items() if k != "rhythm.drawn_strikes"}, path)
    with pytest.raises(SegueError, match=r"rhythm\.\[TEXTURE\.\]drawn_strikes") as caught:
        load_model(folder)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)

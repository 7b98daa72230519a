import numpy as np
import torch

from segue.models.blocks import onehot
from segue.music.tokens import FIRST_PITCH, HOLD, REST
from segue.sampler.states import sounding_pitches
from segue.training.intervals import interval_shares, sounding_classes, vertical_loss

VOCAB = FIRST_PITCH + 30


def _grids(seed: int, batch: int = 3, voices: int = 4, steps: int = 12) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    tokens = rng.choice([REST, HOLD, *range(FIRST_PITCH, VOCAB)], size=(batch, voices, steps))
    return torch.from_numpy(tokens)


def test_sounding_classes_follow_holds_across_the_seam_and_match_the_sampler():
    context, continuation = _grids(0), _grids(1)
    continuation[0, 0, 0] = HOLD  # goes on with the context's last note
    context[0, 0, -1] = FIRST_PITCH + 14
    got = sounding_classes(onehot(context, VOCAB).float(), onehot(continuation, VOCAB).float())
    pitch = sounding_pitches(torch.cat([context, continuation], 2).numpy(), VOCAB - FIRST_PITCH)[..., 12:]
    expected = np.zeros(got.shape, dtype=np.float32)
    b, v, t = np.nonzero(pitch >= 0)
    expected[b, v, pitch[b, v, t] % 12, t] = 1.0
    assert np.array_equal(got.numpy(), expected)
    assert got[0, 0, 14 % 12, 0] == 1.0


def test_interval_shares_count_every_pair_at_every_step():
    sounding = torch.zeros(1, 3, 12, 4)
    sounding[0, 0, 7, :] = 1.0  # G above
    sounding[0, 1, 4, :2] = 1.0  # E, then silent
    sounding[0, 2, 0, :] = 1.0  # C
    shares = interval_shares(sounding)  # pairs (0, 1), (0, 2), (1, 2)
    assert shares[0, 3] == 0.5 and shares[0].sum() == 0.5  # a minor third, half the steps
    assert shares[1, 7] == 1.0  # a fifth throughout
    assert shares[2, 4] == 0.5


def test_the_loss_is_zero_on_the_real_chords_and_its_gradient_lowers_a_clash():
    context = onehot(_grids(2), VOCAB).float()
    real = onehot(_grids(3), VOCAB).float()
    assert vertical_loss(context, real, real) == 0
    logits = torch.zeros(real.shape, requires_grad=True)
    drawn = torch.softmax(logits, dim=2)
    loss = vertical_loss(context, drawn, real)
    loss.backward()
    assert 0 < loss <= 1 and torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0


def test_descent_on_the_term_moves_toward_the_real_intervals():
    torch.manual_seed(0)
    context = onehot(_grids(4, batch=8), VOCAB).float()
    real = onehot(_grids(5, batch=8), VOCAB).float()
    logits = torch.randn(real.shape, requires_grad=True)
    first = vertical_loss(context, torch.softmax(logits, 2), real).item()
    optimizer = torch.optim.Adam([logits], lr=0.1)
    for _ in range(30):
        loss = vertical_loss(context, torch.softmax(logits, 2), real)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.5 * first


def test_move_shares_measure_each_new_note_from_the_pitch_before_it():
    from segue.training.intervals import MELODIC, move_shares

    context = torch.tensor([[[FIRST_PITCH + 10, HOLD]]])  # one voice, sounding pitch 10
    continuation = torch.tensor([[[HOLD, FIRST_PITCH + 12, REST, FIRST_PITCH + 5, FIRST_PITCH + 5, FIRST_PITCH + 29]]])
    shares = move_shares(onehot(context, VOCAB).float(), onehot(continuation, VOCAB).float())[0] * 6
    # up 2; after a rest: none; repeated: 0; up 24: beyond the largest class
    expected = torch.zeros(2 * MELODIC + 3)
    expected[MELODIC + 1 + 2] = expected[MELODIC + 1] = expected[2 * MELODIC + 2] = 1.0
    assert torch.allclose(shares, expected)

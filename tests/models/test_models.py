import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from segue.training.windows import onehot
from segue.errors import SegueError
from segue.pipeline.model import SegueModel, load_model
from segue.models import Discriminator, Generator, get_loss
from segue.models.blocks import straight_through_gumbel
from tests.tiny import TINY_MODEL

C = TINY_MODEL


def random_tokens(batch: int, steps: int, seed: int) -> torch.Tensor:
    return torch.randint(C.vocab, (batch, C.voices, steps), generator=torch.Generator().manual_seed(seed))


def test_shapes_forward_and_backward():
    torch.manual_seed(0)
    G, D = Generator(C), Discriminator(C)
    prior = onehot(random_tokens(4, C.context_steps, 0), C.vocab)
    z = torch.randn(4, C.z_dim)
    logits = G.logits(prior, z)
    assert logits.shape == (4, C.voices, C.vocab, C.continuation_steps)
    fake = G(prior, z, tau=0.5)
    assert torch.equal(fake.detach().sum(2), torch.ones(4, C.voices, C.continuation_steps))
    assert set(fake.detach().unique().tolist()) == {0.0, 1.0}  # D never sees soft values
    score = D(prior, fake)
    assert score.shape == (4,)
    score.mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in G.parameters())
    assert all(p.grad is not None for p in D.parameters())


def test_generator_uses_the_prior_and_z():
    torch.manual_seed(0)
    G = Generator(C).eval()
    z = torch.randn(2, C.z_dim)
    a = onehot(random_tokens(2, C.context_steps, 1), C.vocab)
    b = onehot(random_tokens(2, C.context_steps, 2), C.vocab)
    with torch.no_grad():
        assert not torch.allclose(G.logits(a, z), G.logits(b, z), atol=1e-4)
        assert not torch.allclose(G.logits(a, z), G.logits(a, torch.randn(2, C.z_dim)), atol=1e-4)
        assert torch.equal(G.logits(a, z), G.logits(a, z))


def test_discriminator_sees_the_prior():
    torch.manual_seed(0)
    D = Discriminator(C).eval()
    candidate = onehot(random_tokens(4, C.continuation_steps, 3), C.vocab)
    a = onehot(random_tokens(4, C.context_steps, 4), C.vocab)
    b = onehot(random_tokens(4, C.context_steps, 5), C.vocab)
    with torch.no_grad():
        assert not torch.allclose(D(a, candidate), D(b, candidate), atol=1e-5)


def test_straight_through_gumbel_samples_the_softmax_and_passes_gradients():
    logits = torch.tensor([[0.0, 2.0, -1.0]]).log_softmax(-1)[:, None, :, None].repeat(1, 1, 1, 4000)
    logits.requires_grad_(True)
    draws = straight_through_gumbel(logits, 1.0, torch.Generator().manual_seed(0))
    frequencies = draws.detach().mean(dim=3).flatten()
    assert torch.allclose(frequencies, torch.softmax(torch.tensor([0.0, 2.0, -1.0]), 0), atol=0.03)
    (draws[:, :, 1] * 1.0).sum().backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0


def test_losses_on_known_scores():
    scores = torch.tensor([2.0, -0.5])
    hinge = get_loss("hinge")
    assert hinge.d_real(scores).item() == pytest.approx((0 + 1.5) / 2)
    assert hinge.d_fake(scores).item() == pytest.approx((3 + 0.5) / 2)
    assert hinge.g(scores).item() == pytest.approx(-0.75)
    with pytest.raises(ValueError):
        get_loss("nope")


def test_model_folder_round_trip_is_exact(tmp_path: Path):
    torch.manual_seed(0)
    model = SegueModel.create(C, {"note": "test"})
    model.save(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["config.json", "model.safetensors"]
    loaded = load_model(tmp_path / "m")
    assert loaded.config == C and loaded.info["note"] == "test"
    prior = onehot(random_tokens(3, C.context_steps, 6), C.vocab)
    z = torch.randn(3, C.z_dim)
    model.eval()
    with torch.no_grad():
        assert torch.equal(model.generator.logits(prior, z), loaded.generator.logits(prior, z))
        candidate = onehot(random_tokens(3, C.continuation_steps, 7), C.vocab)
        assert torch.equal(model.discriminator(prior, candidate), loaded.discriminator(prior, candidate))


def _edit_config(folder: Path, **changes: object) -> None:
    document = json.loads((folder / "config.json").read_text())
    document["model"].update(changes)
    (folder / "config.json").write_text(json.dumps(document))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"colour": "red"}, "unknown setting"),
        ({"channels": "wide"}, "must be int"),
        ({"channels": 10**9}, "between 1 and 1024"),
        ({"z_dim": 10**12}, "between 1 and 1024"),
        ({"voices": 10**6}, "voices must be between 1 and 16"),
        ({"context_bars": 10**6}, "at most 16 bars"),
        ({"d_channels": 40}, "multiple of 16"),
        ({"voices": 3}, "voice_names"),
    ],
)
def test_bad_configs_are_refused_before_allocation(tmp_path: Path, changes: dict, message: str):
    SegueModel.create(C).save(tmp_path / "m")
    _edit_config(tmp_path / "m", **changes)
    with pytest.raises(SegueError, match=message):
        load_model(tmp_path / "m")


def test_weights_that_do_not_match_the_config_are_refused(tmp_path: Path):
    SegueModel.create(C).save(tmp_path / "m")
    weights = load_file(tmp_path / "m" / "model.safetensors")
    key = next(k for k in weights if k.startswith("generator.") and weights[k].dim() >= 2)
    weights[key] = torch.zeros(3, 3)
    save_file(weights, tmp_path / "m" / "model.safetensors")
    with pytest.raises(SegueError, match="shape"):
        load_model(tmp_path / "m")
    (tmp_path / "m" / "model.safetensors").write_bytes(b"\x00" * 20)
    with pytest.raises(SegueError, match="unreadable"):
        load_model(tmp_path / "m")
    with pytest.raises(SegueError, match="not a segue model folder"):
        load_model(tmp_path)


def test_interval_features_are_the_exact_intervals_and_pass_gradients():
    from dataclasses import replace

    from segue.models.discriminator import IntervalFeatures
    from segue.music.tokens import FIRST_PITCH as P
    from segue.music.tokens import HOLD, REST

    config = replace(C, voices=2, voice_names=("upper", "lower"))
    tokens = torch.tensor(
        [[[P + 24, HOLD, P + 26, HOLD, REST, P + 19], [P + 12, HOLD, HOLD, P + 14, HOLD, HOLD]]]
    )
    x = onehot(tokens, config.vocab).requires_grad_(True)
    out = IntervalFeatures(config)(x).view(1, 3, 27, 6)
    found = [
        [(c - offset, t) for c, t in (out[0, row] > 0.9).nonzero().tolist()]
        for row, offset in ((0, 13), (1, 13), (2, 1))
    ]
    assert sorted(found[0]) == [(-7, 5), (2, 2)]  # the upper voice: up a tone, then down a fifth after a rest
    assert found[1] == [(2, 3)]
    assert sorted(found[2], key=lambda f: f[1]) == [
        (12, 0),
        (12, 1),
        (14, 2),
        (12, 3),
        (5, 5),
    ]  # none at the rest
    (out[0, 2, 1 + 14, 2]).backward()  # the tenth at step 2 depends on both voices' notes
    assert x.grad[0, 0, :, 2].abs().sum() > 0 and x.grad[0, 1, :, 0].abs().sum() > 0
    D = Discriminator(replace(C, d_intervals=True))
    prior = onehot(random_tokens(2, C.context_steps, 6), C.vocab)
    assert D(prior, onehot(random_tokens(2, C.continuation_steps, 7), C.vocab)).shape == (2,)


def test_one_hot_correlation_matches_the_product_per_lag_in_value_and_gradient():
    from segue.models.discriminator import _correlate

    def per_lag(upper, lower, lags):
        padded = torch.nn.functional.pad(lower, (0, 0, 13, 13))
        pitches = upper.shape[2]
        return torch.stack([(upper * padded[:, :, 13 - d : 13 - d + pitches]).sum(2) for d in lags], dim=2)

    g = torch.Generator().manual_seed(0)

    def hots() -> torch.Tensor:
        index = torch.randint(0, 20, (3, 2, 7), generator=g)
        x = torch.zeros(3, 2, 20, 7).scatter_(2, index.unsqueeze(2), 1.0)
        return (x * (torch.rand(3, 2, 1, 7, generator=g) > 0.2)).requires_grad_(True)  # some silent steps

    for lags in (tuple(range(-13, 14)), tuple(range(-1, 13))):
        upper, lower = hots(), hots()
        weights = torch.randn(3, 2, len(lags), 7, generator=g)
        fast = _correlate(upper, lower, lags)
        (fast * weights).sum().backward()
        grads = upper.grad.clone(), lower.grad.clone()
        upper.grad = lower.grad = None
        slow = per_lag(upper, lower, lags)
        (slow * weights).sum().backward()
        assert torch.equal(fast, slow) and fast.sum() > 0
        assert torch.allclose(grads[0], upper.grad) and torch.allclose(grads[1], lower.grad)


def test_loading_never_unpickles(tmp_path: Path, monkeypatch):
    """Model folders, LSTM folders and checkpoints load with pickle and torch.load disabled."""
    import pickle

    from segue.pipeline.lstm import load_lstm
    from segue.pipeline.model import baseline_model_dir
    from segue.training.checkpoint import load_checkpoint, save_checkpoint

    SegueModel.create(C).save(tmp_path / "m")
    net = torch.nn.Linear(4, 4)
    optimizer = torch.optim.Adam(net.parameters())
    saved = save_checkpoint(tmp_path / "ckpt", 1, {"net": net}, {"opt": optimizer}, {})

    def refuse(*args, **kwargs):
        raise AssertionError("something tried to unpickle")

    for module, name in ((pickle, "load"), (pickle, "loads"), (pickle, "Unpickler"), (torch, "load")):
        monkeypatch.setattr(module, name, refuse)
    (tmp_path / "m" / "pytorch_model.bin").write_bytes(pickle.dumps({"evil": 1}))  # never looked at
    assert load_model(tmp_path / "m").config == C
    load_lstm(baseline_model_dir("lstm"))
    assert load_checkpoint(saved, {"net": net}, {"opt": optimizer}).step == 1


def test_a_line_prior_travels_with_the_model_folder(tmp_path: Path):
    import math

    from segue.models.lineprior import LinePrior, allowed_moves

    pitches = C.vocab - 2
    potentials = torch.randn(C.voices, 2 * pitches + 1, 2 * pitches + 1).masked_fill(
        ~allowed_moves(pitches), -math.inf
    )
    model = SegueModel.create(C)
    model.lines = LinePrior(potentials, strength=0.5, parallels=3.0)
    model.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert loaded.lines is not None and torch.equal(loaded.lines.potentials, potentials[:, None])
    assert (loaded.lines.strength, loaded.lines.parallels) == (0.5, 3.0)
    assert "sampling" not in loaded.info
    document = json.loads((tmp_path / "m" / "config.json").read_text())
    document["sampling"]["parallels"] = -4
    (tmp_path / "m" / "config.json").write_text(json.dumps(document))
    with pytest.raises(SegueError, match="bad sampling settings"):
        load_model(tmp_path / "m")
    weights = load_file(tmp_path / "m" / "model.safetensors")
    weights["line_prior.potentials"] = torch.zeros(C.voices, 5, 5)
    save_file(weights, tmp_path / "m" / "model.safetensors")
    document["sampling"]["parallels"] = 4
    (tmp_path / "m" / "config.json").write_text(json.dumps(document))
    with pytest.raises(SegueError, match=r"line_prior\.potentials has shape"):
        load_model(tmp_path / "m")


def test_a_calibrated_line_prior_travels_with_the_model_folder(tmp_path: Path):
    import math

    from segue.models.lineprior import (
        MOVE_CLASSES,
        REGISTER_CLASSES,
        TONAL_CLASSES,
        Calibration,
        LinePrior,
        allowed_moves,
    )

    pitches = C.vocab - 2
    size = 2 * pitches + 1
    potentials = torch.zeros(C.voices, C.steps_per_bar, size, size).masked_fill(
        ~allowed_moves(pitches), -math.inf
    )
    calibration = Calibration(
        torch.randn(C.voices, C.steps_per_bar, MOVE_CLASSES).clamp(-3, 3),
        torch.randn(C.voices, TONAL_CLASSES).clamp(-3, 3),
        torch.randn(C.voices, REGISTER_CLASSES).clamp(-3, 3),
        torch.randn(C.voices).clamp(-3, 3),
        torch.randn(C.voices, C.steps_per_bar).clamp(-3, 3),
        torch.randn(C.voices, MOVE_CLASSES).clamp(-3, 3),
    )
    model = SegueModel.create(C)
    model.lines = LinePrior(potentials, calibration=calibration)
    model.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m").lines
    assert loaded is not None and loaded.calibration is not None
    for name, weights in calibration.tensors().items():
        assert torch.equal(loaded.calibration.tensors()[name], weights)
    weights = load_file(tmp_path / "m" / "model.safetensors")
    older = {k: v for k, v in weights.items() if not k.endswith((".onsets", ".seam"))}
    save_file(older, tmp_path / "m" / "model.safetensors")  # a folder calibrated before onsets and seam
    loaded = load_model(tmp_path / "m").lines
    assert loaded is not None and loaded.calibration is not None
    assert loaded.calibration.onsets is None and loaded.calibration.seam is None
    weights["line_prior.calibration.echo"] = torch.zeros(C.voices + 1)
    save_file(weights, tmp_path / "m" / "model.safetensors")
    with pytest.raises(SegueError, match="calibration echo must have shape"):
        load_model(tmp_path / "m")
    del weights["line_prior.calibration.echo"]
    save_file(weights, tmp_path / "m" / "model.safetensors")
    with pytest.raises(SegueError, match="line prior"):
        load_model(tmp_path / "m")
    del weights["line_prior.potentials"]
    save_file(weights, tmp_path / "m" / "model.safetensors")
    with pytest.raises(SegueError, match="calibration without"):
        load_model(tmp_path / "m")

import dataclasses
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from segue.errors import SegueError
from segue.models import HINGE, Discriminator, Generator
from segue.models.blocks import onehot, straight_through_gumbel
from segue.models.generator import VoiceHead
from segue.pipeline.model import SegueModel, load_model
from segue.pipeline.sampling import continue_tokens
from segue.sampler import PlainSampler, VoiceLeadingSampler
from tests.tiny import TINY_MODEL

C = TINY_MODEL


def random_tokens(batch: int, steps: int, seed: int) -> torch.Tensor:
    return torch.randint(C.vocab, (batch, C.voices, steps), generator=torch.Generator().manual_seed(seed))


def test_shapes_forward_and_backward():
    torch.manual_seed(0)
    G, D = Generator(C), Discriminator(C)
    context = onehot(random_tokens(4, C.context_steps, 0), C.vocab)
    z = torch.randn(4, C.z_dim)
    logits = G.logits(context, z)
    assert logits.shape == (4, C.voices, C.vocab, C.continuation_steps)
    fake = G(context, z, tau=0.5)
    assert torch.equal(fake.detach().sum(2), torch.ones(4, C.voices, C.continuation_steps))
    assert set(fake.detach().unique().tolist()) == {0.0, 1.0}  # D never sees soft values
    score = D(context, fake)
    assert score.shape == (4,)
    score.mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in G.parameters())
    assert all(p.grad is not None for p in D.parameters())


@pytest.mark.parametrize(("meter", "steps_per_beat"), [("4/2", 2), ("3/2", 2), ("6/8", 8)])
def test_every_grid_the_config_allows_gives_whole_bars(meter: str, steps_per_beat: int):
    config = dataclasses.replace(C, meter=meter, steps_per_beat=steps_per_beat)
    G, D = Generator(config), Discriminator(config)
    context = onehot(random_tokens(2, config.context_steps, 0), config.vocab)
    logits = G.logits(context, torch.randn(2, config.z_dim))
    assert logits.shape == (2, config.voices, config.vocab, config.continuation_steps)
    assert D(context, G(context, torch.randn(2, config.z_dim), tau=0.5)).shape == (2,)


def test_generator_uses_the_context_and_z():
    torch.manual_seed(0)
    G = Generator(C).eval()
    z = torch.randn(2, C.z_dim)
    a = onehot(random_tokens(2, C.context_steps, 1), C.vocab)
    b = onehot(random_tokens(2, C.context_steps, 2), C.vocab)
    with torch.no_grad():
        assert not torch.allclose(G.logits(a, z), G.logits(b, z), atol=1e-4)
        assert not torch.allclose(G.logits(a, z), G.logits(a, torch.randn(2, C.z_dim)), atol=1e-4)
        assert torch.equal(G.logits(a, z), G.logits(a, z))


def test_discriminator_sees_the_context():
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


def test_the_hinge_loss_on_known_scores():
    scores = torch.tensor([2.0, -0.5])
    assert HINGE.name == "hinge"
    assert HINGE.d_real(scores).item() == pytest.approx((0 + 1.5) / 2)
    assert HINGE.d_fake(scores).item() == pytest.approx((3 + 0.5) / 2)
    assert HINGE.g(scores).item() == pytest.approx(-0.75)


def test_model_folder_round_trip_is_exact(tmp_path: Path):
    torch.manual_seed(0)
    model = SegueModel.create(C, {"note": "test"})
    model.save(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["config.json", "model.safetensors"]
    loaded = load_model(tmp_path / "m")
    assert loaded.config == C and loaded.info["note"] == "test"
    assert isinstance(loaded.sampler, PlainSampler)
    context = onehot(random_tokens(3, C.context_steps, 6), C.vocab)
    z = torch.randn(3, C.z_dim)
    model.eval()
    with torch.no_grad():
        assert torch.equal(model.generator.logits(context, z), loaded.generator.logits(context, z))
        candidate = onehot(random_tokens(3, C.continuation_steps, 7), C.vocab)
        assert torch.equal(model.discriminator(context, candidate), loaded.discriminator(context, candidate))


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
        ({"head": "notes"}, "head must be"),
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


def test_loading_never_unpickles(tmp_path: Path, monkeypatch):
    """Model folders (their sampler too), LSTM folders and checkpoints load with pickle and torch.load
    disabled."""
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
    assert isinstance(load_model(None).sampler, VoiceLeadingSampler)  # the sampler's section too
    load_lstm(baseline_model_dir("lstm"))
    assert load_checkpoint(saved, {"net": net}, {"opt": optimizer}).step == 1


def test_the_voice_head_reads_only_the_voices_above_and_draws_reproducibly():
    torch.manual_seed(0)
    config = dataclasses.replace(C, head="voices")
    G = Generator(config).eval()
    assert isinstance(G.out, VoiceHead) and not isinstance(Generator(C).out, VoiceHead)
    context = onehot(random_tokens(3, C.context_steps, 6), C.vocab)
    z = torch.randn(3, C.z_dim)
    given = onehot(random_tokens(3, C.continuation_steps, 7), C.vocab)
    with torch.no_grad():
        logits = G.logits(context, z, given=given)
        for v in range(C.voices):  # change voice v: the logits of v and above stay, those below move
            changed = given.clone()
            changed[:, v] = onehot(random_tokens(3, C.continuation_steps, 8 + v), C.vocab)[:, v]
            other = G.logits(context, z, given=changed)
            assert torch.equal(other[:, : v + 1], logits[:, : v + 1])
            if v < C.voices - 1:
                assert not torch.allclose(other[:, v + 1 :], logits[:, v + 1 :], atol=1e-5)
        prime = random_tokens(3, C.context_steps, 6)
        first = continue_tokens(G, prime, 2, torch.Generator().manual_seed(1))
        assert first.shape == (3, C.voices, 2 * C.steps_per_bar)
        assert torch.equal(first, continue_tokens(G, prime, 2, torch.Generator().manual_seed(1)))
        assert not torch.equal(first, continue_tokens(G, prime, 2, torch.Generator().manual_seed(2)))
    with pytest.raises(ValueError, match="given"):
        G.logits(context, z)
    fake = G(context, z, 0.5, torch.Generator().manual_seed(3))  # straight through, voice after voice
    assert set(fake.detach().unique().tolist()) == {0.0, 1.0}
    fake[:, -1, 5].sum().backward()  # the lowest voice's draw passes gradients to the head of the top one
    assert G.out.own[0].weight.grad is not None and G.out.own[0].weight.grad.abs().sum() > 0


def test_the_seam_input_adds_the_context_last_bar_to_every_written_step(tmp_path: Path):
    torch.manual_seed(0)
    config = dataclasses.replace(C, seam=True)
    G = Generator(config).eval()
    without = Generator(C).eval()
    missing = without.load_state_dict(G.state_dict(), strict=False)
    assert set(missing.unexpected_keys) == {"seam.weight", "seam.bias", "seam_profile"}
    context = onehot(random_tokens(2, C.context_steps, 9), C.vocab)
    z = torch.randn(2, C.z_dim)
    with torch.no_grad():
        logits = G.logits(context, z)
        assert not torch.allclose(logits, without.logits(context, z), atol=1e-5)
        other_bar = context.clone()  # another last bar: every written step hears it through the seam
        other_bar[..., -C.steps_per_bar :] = onehot(random_tokens(2, C.steps_per_bar, 10), C.vocab)
        moved = (G.logits(other_bar, z) - logits).abs().amax(dim=(1, 2))
        assert (moved > 0).all()
        G.seam_profile.zero_()  # the seam's only way in is its profile: zero, and G is the one without it
        assert torch.allclose(G.logits(context, z), without.logits(context, z), atol=1e-6)
    model = SegueModel.create(config)
    loaded = load_model(model.save(tmp_path / "m"))
    assert loaded.config.seam and torch.equal(loaded.generator.seam_profile, model.generator.seam_profile)


def test_dropout_acts_while_training_only_and_adds_no_tensors():
    torch.manual_seed(0)
    config = dataclasses.replace(C, dropout=0.5)
    G = Generator(config)
    assert set(G.state_dict()) == set(Generator(C).state_dict())
    context = onehot(random_tokens(2, C.context_steps, 4), C.vocab)
    z = torch.randn(2, C.z_dim)
    with torch.no_grad():
        G.train()
        assert not torch.allclose(G.logits(context, z), G.logits(context, z))  # features dropped at random
        G.eval()
        assert torch.equal(G.logits(context, z), G.logits(context, z))
        plain = Generator(C).eval()
        plain.load_state_dict(G.state_dict())
        assert torch.equal(G.logits(context, z), plain.logits(context, z))  # off when sampling
    with pytest.raises(SegueError, match="dropout"):
        dataclasses.replace(C, dropout=1.0)

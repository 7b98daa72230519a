"""The chord plan (lab): G decides each beat's pitch classes, the voices are written under them."""

import dataclasses

import pytest
import torch

from segue.errors import SegueError
from segue.models import Generator
from segue.models.blocks import onehot
from segue.models.generator import CHORD_SETS, SET_CLASSES, beat_chords
from segue.music.tokens import FIRST_PITCH, HOLD, REST
from tests.tiny import TINY_MODEL

PLAN = dataclasses.replace(TINY_MODEL, head="voices", plan=True)


def _classes(index: int) -> set[int]:
    return {c for c in range(12) if SET_CLASSES[index, c]}


def test_the_chord_of_a_beat_is_what_sounds_at_its_first_step_holds_included():
    c = PLAN
    context = torch.full((1, c.voices, c.context_steps), REST)
    context[0, 3, -2] = FIRST_PITCH + 12  # the bass strikes C (lowest 36 + 12 = 48) in the context
    context[0, 3, -1] = HOLD
    real = torch.full((1, c.voices, c.continuation_steps), HOLD)
    real[0, :3, 0] = torch.tensor([FIRST_PITCH + 28, FIRST_PITCH + 19, REST])  # E, G, a rest
    real[0, 0, 4] = FIRST_PITCH + 29  # F on the second beat's first step
    real[0, 1, 5] = FIRST_PITCH + 21  # A one step after it: not in the second beat's chord
    chords = beat_chords(onehot(context, c.vocab), onehot(real, c.vocab), c)
    assert chords.shape == (1, c.continuation_steps // c.steps_per_beat)
    assert _classes(int(chords[0, 0])) == {0, 4, 7}  # the bass's C held through the seam
    assert _classes(int(chords[0, 1])) == {0, 5, 7}  # F replaces E; the A comes later
    assert _classes(int(chords[0, 2])) == {0, 5, 9}


def test_a_plan_starts_as_the_generator_it_grows_from_and_learns_from_the_real_chords():
    torch.manual_seed(0)
    base = Generator(dataclasses.replace(PLAN, plan=False))
    planned = Generator(PLAN)
    planned.load_state_dict(base.state_dict(), strict=False)
    base.eval(), planned.eval()
    context = onehot(torch.randint(PLAN.vocab, (2, PLAN.voices, PLAN.context_steps)), PLAN.vocab)
    real = onehot(torch.randint(PLAN.vocab, (2, PLAN.voices, PLAN.continuation_steps)), PLAN.vocab)
    z = torch.randn(2, PLAN.z_dim)
    logits, loss = planned.logits_and_plan(context, z, given=real)
    assert torch.allclose(logits, base.logits(context, z, given=real), atol=1e-6)  # nothing read yet
    assert loss is not None and abs(loss.item() - torch.log(torch.tensor(float(CHORD_SETS)))) < 1.0
    (logits.logsumexp(2).mean() + loss).backward()
    assert planned.plan.last.weight.grad.abs().sum() > 0
    assert planned.out.chord_gain.grad.abs().sum() > 0  # the voices learn to read the chord


def test_drawn_voices_follow_a_strong_plan():
    torch.manual_seed(1)
    G = Generator(dataclasses.replace(PLAN, plan_pull=10.0)).eval()
    with torch.no_grad():
        G.out.chord_gain.fill_(20.0)  # with the fixed pull the chord's classes outweigh everything
    context = onehot(torch.randint(PLAN.vocab, (4, PLAN.voices, PLAN.context_steps)), PLAN.vocab)
    rng = torch.Generator().manual_seed(0)
    x = G.features(context, torch.randn(4, PLAN.z_dim))
    chord = G.draw_plan(x, 1.0)
    drawn = G.out.draw(x, 1.0, rng, chord).argmax(2)  # (B, V, S)
    struck = drawn >= FIRST_PITCH
    classes = (drawn - FIRST_PITCH + PLAN.lowest) % 12  # (B, V, S)
    inside = chord.gather(1, classes)  # (B, V, S): whether each voice's class is in its beat's chord
    assert struck.sum() > 20
    assert bool(inside[struck].all())


def test_the_adversarial_draw_takes_the_writers_chords_and_teaches_the_plan_head():
    torch.manual_seed(2)
    G = Generator(PLAN).train()
    context = onehot(torch.randint(PLAN.vocab, (3, PLAN.voices, PLAN.context_steps)), PLAN.vocab)
    x = G.features(context, torch.randn(3, PLAN.z_dim))
    chord = G.draw_plan(x, 0.5)
    likeliest = SET_CLASSES[G.plan(x).argmax(1)].transpose(1, 2)  # (B, 12, beats)
    assert torch.allclose(chord[..., :: PLAN.steps_per_beat], likeliest, atol=1e-5)
    (chord * torch.randn_like(chord)).sum().backward()
    assert G.plan.last.weight.grad.abs().sum() > 0


def test_a_pull_without_a_plan_is_refused():
    with pytest.raises(SegueError, match="plan_pull needs plan"):
        dataclasses.replace(TINY_MODEL, head="voices", plan_pull=1.0)

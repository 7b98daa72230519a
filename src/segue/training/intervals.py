"""Training terms on the intervals G's voices make: between every pair of voices at every step
(how they sound together), and within each voice from note to note (how its line moves), each
matched to those of the batch's real continuations.

Given z, G draws each (voice, step) cell on its own, so a chord is only as coherent as G's
distributions are sharp and agree; the discriminator has to discover that from its convolutions.
The vertical term asks for it directly, on the training batch: for every pair of voices, the
share of steps at which they sound a given interval class (0-11 semitones, modulo the octave)
must be the real continuations'. The melodic term does the same for each voice's moves: the
share of steps at which it starts a note a given number of semitones (-12..12, or further) from
the pitch sounding just before. Counts are per step, not per sounding pair or note, so falling
silent or holding on does not help. The straight-through one-hots carry the gradient (the
forward value is the drawn continuation).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from segue.music.tokens import FIRST_PITCH, HOLD

CLASSES = 12


MELODIC = 12
"""Moves of up to this many semitones are told apart; longer ones share a class each way."""


def sounding(context: torch.Tensor, continuation: torch.Tensor, classes: bool = False) -> torch.Tensor:
    """The pitch each voice sounds at the context's last step and at each continuation step,
    (B, V, P, 1 + Sc), from (B, V, K, Sp) and (B, V, K, Sc) one-hots (or their relaxations); with
    ``classes``, pitch classes, (B, V, 12, 1 + Sc). A new note sounds its own pitch, a hold the
    previous step's, a rest none. Linear in the one-hots of each step, so the gradient reaches
    every token that decides what sounds."""
    tokens = torch.cat([context, continuation], dim=3)
    onsets = tokens[:, :, FIRST_PITCH:]
    if classes:
        count = onsets.shape[2]
        fold = torch.zeros(count, CLASSES, device=tokens.device, dtype=tokens.dtype)
        fold[torch.arange(count), torch.arange(count) % CLASSES] = 1.0  # the lowest pitch's offset cancels
        onsets = torch.einsum("bvpt,pc->bvct", onsets, fold)
    holds = tokens[:, :, HOLD : HOLD + 1]  # (B, V, 1, S)
    now = onsets[..., 0]
    out = []
    for t in range(1, tokens.shape[3]):
        now = onsets[..., t] + holds[..., t] * now
        if t >= context.shape[3] - 1:
            out.append(now)
    return torch.stack(out, dim=3)


def sounding_classes(context: torch.Tensor, continuation: torch.Tensor) -> torch.Tensor:
    """The pitch class each voice sounds at each continuation step, (B, V, 12, Sc)."""
    return sounding(context, continuation, classes=True)[..., 1:]


def move_shares(context: torch.Tensor, continuation: torch.Tensor) -> torch.Tensor:
    """(V, 2 * MELODIC + 3) shares of the continuation's steps at which each voice starts a
    note d semitones from the pitch sounding at the step before: d below -MELODIC, d = -MELODIC
    .. MELODIC, d above MELODIC (a rest before a note counts in none)."""
    before = sounding(context, continuation)[..., :-1]  # (B, V, P, Sc)
    onsets = continuation[:, :, FIRST_PITCH:]
    batch, voices, count, steps = onsets.shape
    joint = torch.einsum("bvat,bvct->vac", before, onsets) / (batch * steps)  # from pitch a to c
    offsets = torch.arange(count, device=onsets.device)
    distance = (offsets[None, :] - offsets[:, None]).clamp(-MELODIC - 1, MELODIC + 1) + MELODIC + 1
    shares = torch.zeros(voices, 2 * MELODIC + 3, device=onsets.device, dtype=joint.dtype)
    return shares.index_add(1, distance.flatten(), joint.flatten(1))


def interval_shares(sounding: torch.Tensor) -> torch.Tensor:
    """(P, 12) shares of the steps at which each pair of voices (upper first, in the order of
    ``torch.triu_indices``) sounds each interval class, upper minus lower modulo 12."""
    batch, voices, _, steps = sounding.shape
    upper, lower = torch.triu_indices(voices, voices, 1, device=sounding.device)
    shifts = (torch.arange(CLASSES, device=sounding.device)[:, None] + torch.arange(CLASSES, device=sounding.device)) % CLASSES
    # shifted[b, v, k, c, t] = sounding[b, v, (c + k) % 12, t]: the upper voice k above class c
    shifted = sounding[:, :, shifts]
    return torch.einsum("bpct,bpkct->pk", sounding[:, lower], shifted[:, upper]) / (batch * steps)


def vertical_loss(context: torch.Tensor, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Total variation between G's and the real continuations' interval shares, averaged over the
    pairs of voices (0: the same; at most 1)."""
    return _distance(lambda c, x: interval_shares(sounding_classes(c, x)), context, fake, real)


def melodic_loss(context: torch.Tensor, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Total variation between G's and the real continuations' move shares, averaged over the
    voices (0: the same; at most 1)."""
    return _distance(move_shares, context, fake, real)


def _distance(
    shares: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    context: torch.Tensor,
    fake: torch.Tensor,
    real: torch.Tensor,
) -> torch.Tensor:
    with torch.autocast(device_type=fake.device.type, enabled=False):
        drawn = shares(context.float(), fake.float())
        with torch.no_grad():
            target = shares(context.float(), real.float())
    return 0.5 * (drawn - target).abs().sum(1).mean()

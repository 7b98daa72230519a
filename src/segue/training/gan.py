"""One adversarial step: D judges (context, continuation) pairs, then G learns to fool it.

D is updated on real pairs, generated pairs and mismatched pairs (a real continuation under
another window's context, counted as fake, so D must judge the pair and not only the
continuation) with the hinge loss; then G is updated once, with the CVAE's reconstruction term
when ``reconstruction`` > 0.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from segue.models import HINGE
from segue.training.cvae import reconstruction_terms
from segue.training.metrics import TrainingDiverged, onset_rate

if TYPE_CHECKING:
    from segue.training.trainer import Trainer

METRICS = ["loss_d", "loss_g", "d_real", "d_fake", "d_mismatch", "tau", "fake_onsets", "real_onsets"]
"""What a GAN step reports (and, with the reconstruction term, its two parts)."""


def tau_at(steps: int, tau_start: float, tau_end: float, step: int) -> float:
    """The Gumbel-softmax temperature at ``step`` of ``steps``: geometric from start to end."""
    return tau_start * (tau_end / tau_start) ** min(1.0, step / steps)


def gan_step(t: Trainer) -> dict[str, float]:
    """One discriminator update, then one generator update and G's moving average."""
    tc = t.tc
    tau = tau_at(tc.steps, tc.tau_start, tc.tau_end, t.step)
    G = t.G_train.module if isinstance(t.G_train, DistributedDataParallel) else t.G_train
    _, context, real = t.batch()
    with torch.no_grad(), t.autocast():
        fake = G(context, t.z(), tau, t.noise_rng)
    mismatch = real.roll(1, dims=0)
    with t.autocast():
        candidates = torch.cat([real, fake, mismatch])
        scores = t.D_train(context.repeat(3, 1, 1, 1), candidates, group=t.group).float()
    s_real, s_fake, s_mis = scores.chunk(3)
    loss_d = HINGE.d_real(s_real) + HINGE.d_fake(s_fake) + tc.mismatch * HINGE.d_fake(s_mis)
    t.opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    t.opt_d.step()
    _, context, real = t.batch()
    with t.autocast():
        fake = t.G_train(context, t.z(), tau, t.noise_rng)
        s_fake_g = t.D(context, fake).float()
    loss_g = HINGE.g(s_fake_g)
    extra = {}
    if tc.reconstruction > 0:
        reconstruction, kl, beta, _ = reconstruction_terms(t, context, real)
        loss_g = loss_g + tc.reconstruction * (reconstruction + beta * kl)
        extra = {"reconstruction": reconstruction.item(), "kl": kl.item()}
    t.opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    t.opt_d.zero_grad(set_to_none=True)  # G's backward passed through D: drop those gradients
    t.opt_g.step()
    t.update_ema()
    values = {
        "loss_d": loss_d.item(),
        "loss_g": loss_g.item(),
        "d_real": s_real.mean().item(),
        "d_fake": s_fake.mean().item(),
        "d_mismatch": s_mis.mean().item(),
        "tau": tau,
        "fake_onsets": onset_rate(fake),
        "real_onsets": onset_rate(real),
        **extra,
    }
    finite = torch.tensor(float(all(math.isfinite(v) for v in values.values())))
    if t.dist.world > 1:  # every rank stops together, never one alone
        dist.all_reduce(finite, op=dist.ReduceOp.MIN)
    if not finite.item():
        raise TrainingDiverged(
            f"loss became {values['loss_d']} (D) / {values['loss_g']} (G) at step {t.step + 1}; "
            f"the last good checkpoint is kept in {t.run_dir / 'checkpoints'}"
        )
    return values

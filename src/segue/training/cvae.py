"""One maximum-likelihood step of the conditional VAE (the baseline, and the GAN's
reconstruction term): an encoder reads the real continuation, G must rebuild it from the
encoder's z, and a KL term keeps z near the prior noise, its weight warming up."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch

from segue.models.cvae import kl_divergence
from segue.music.tokens import FIRST_PITCH
from segue.training.metrics import TrainingDiverged, onset_rate

if TYPE_CHECKING:
    from segue.training.trainer import Trainer

METRICS = ["loss", "reconstruction", "kl", "beta", "fake_onsets", "real_onsets"]
"""What a CVAE step reports."""


def reconstruction_terms(
    t: Trainer, context: torch.Tensor, real: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, float, torch.Tensor]:
    """The CVAE terms: token cross-entropy of G rebuilding ``real`` from the encoder's z,
    the KL divergence per token, the KL weight (warming up) and G's logits."""
    assert t.E is not None
    beta = min(1.0, t.step / max(1.0, t.tc.kl_warmup * t.tc.steps))
    with t.autocast():
        mu, logvar = t.E(context, real)
        noise = torch.randn(mu.shape, generator=t.noise_rng, device=t.noise_rng.device).to(t.device)
        logits, plan = t.G.logits_and_plan(context, mu + noise * (0.5 * logvar).exp(), given=real)
    targets = real.argmax(2)  # (B, V, Sc)
    reconstruction = torch.nn.functional.cross_entropy(logits.float().transpose(1, 2), targets)
    if plan is not None:  # the chords' cross-entropy, per beat, as one more voice's share
        reconstruction = reconstruction + plan / t.mc.voices
    kl = kl_divergence(mu, logvar) / (t.mc.voices * t.mc.continuation_steps)
    return reconstruction, kl, beta, logits


def cvae_step(t: Trainer) -> dict[str, float]:
    """Maximum likelihood: token cross-entropy plus the KL term, its weight warming up."""
    _, context, real = t.batch()
    reconstruction, kl, beta, logits = reconstruction_terms(t, context, real)
    loss = reconstruction + beta * kl
    t.opt_g.zero_grad(set_to_none=True)
    loss.backward()
    t.opt_g.step()
    t.update_ema()
    values = {
        "loss": loss.item(),
        "reconstruction": reconstruction.item(),
        "kl": kl.item(),
        "beta": beta,
        "fake_onsets": float(logits.detach().float().softmax(2)[:, :, FIRST_PITCH:].sum(2).mean()),
        "real_onsets": onset_rate(real),
    }
    if not all(math.isfinite(v) for v in values.values()):
        raise TrainingDiverged(f"the CVAE loss became {values['loss']} at step {t.step + 1}")
    return values

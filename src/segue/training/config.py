"""How a model is trained (:class:`TrainConfig`); saved in every run directory."""

from __future__ import annotations

from dataclasses import dataclass

from segue.configfile import require

METHODS = ("gan", "cvae")
PRECISIONS = ("auto", "fp32", "bf16")


@dataclass(frozen=True)
class TrainConfig:
    """How a model is trained; saved in every run directory."""

    method: str = "gan"
    """gan, or cvae: the conditional-VAE baseline (the same generator trained by maximum likelihood)."""
    steps: int = 8000
    """Generator updates."""
    batch_size: int = 64
    """Windows per batch."""
    lr_g: float = 1e-4
    """Generator learning rate (Adam)."""
    lr_d: float = 4e-4
    """Discriminator learning rate (Adam)."""
    beta1: float = 0.0
    """Adam's first beta."""
    beta2: float = 0.9
    """Adam's second beta."""
    mismatch: float = 0.5
    """Weight of real continuations paired with another window's context, shown to D as fakes."""
    ema_decay: float = 0.999
    """Decay of the exponential moving average of G's weights, used for sampling."""
    tau_start: float = 1.0
    """Gumbel-softmax temperature at the start."""
    tau_end: float = 0.3
    """Gumbel-softmax temperature at the end (annealed geometrically)."""
    reconstruction: float = 0.0
    """gan: weight of an auxiliary conditional-VAE term in G's loss (an encoder reads the real
    continuation; G must rebuild it from the encoder's z); 0 disables it."""
    init: str = ""
    """A model folder whose generator starts G (and its moving average), e.g. a CVAE trained by
    maximum likelihood, which the GAN then sharpens; its discriminator too when it was trained as
    a GAN. Its model settings must be this run's. Empty: start from random weights."""
    kl_warmup: float = 0.3
    """cvae: the share of the steps over which the KL weight rises from 0 to 1."""
    max_transpose: int = 5
    """Largest random transposition, in semitones, that keeps every voice in its range."""
    precision: str = "auto"
    """auto, fp32 or bf16 (autocast). auto: bf16 on a CUDA GPU that computes in bf16 and on a CPU
    with native bf16 (AVX-512 BF16 or AMX) where a short measurement at start finds it faster;
    fp32 elsewhere. The run's config.toml records the choice and why."""
    seed: int = 0
    """Seed of every random choice in training."""
    deterministic: bool = False
    """Use only deterministic algorithms (bit-exact resume on CPU; slower on CUDA)."""
    log_every: int = 20
    """Steps between lines in metrics.csv and TensorBoard."""
    checkpoint_every: int = 500
    """Steps between checkpoints."""
    sample_every: int = 2000
    """Steps between sample continuations (MIDI and PNG)."""

    def __post_init__(self) -> None:
        require(1 <= self.steps <= 10_000_000, "steps must be between 1 and 10,000,000")
        require(1 <= self.batch_size <= 65_536, "batch_size must be between 1 and 65,536")
        require(self.method in METHODS, f"method must be one of {', '.join(METHODS)}")
        require(self.precision in PRECISIONS, f"precision must be one of {', '.join(PRECISIONS)}")
        require(0 <= self.ema_decay < 1, "ema_decay must be in [0, 1)")
        require(0 < self.tau_end <= self.tau_start, "need 0 < tau_end <= tau_start")
        require(self.batch_size >= 2 or self.mismatch == 0, "mismatched pairs need batch_size >= 2")
        for name in ("log_every", "checkpoint_every", "sample_every"):
            require(getattr(self, name) >= 1, f"{name} must be at least 1")

"""The training loop: D judges (prior, continuation) pairs, G learns to fool it.

One step: ``d_steps`` discriminator updates on real pairs, generated pairs and
mismatched pairs (a real continuation under another window's prior, counted as fake,
so D must judge the pair and not only the continuation), then one generator update,
then an update of G's moving average. Runs on CPU, CUDA or Apple MPS, and with
DistributedDataParallel under ``torchrun``.
"""

from __future__ import annotations

import copy
import functools
import math
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from segue import __version__
from segue.config import ModelConfig, TrainConfig, to_dict, toml_dumps
from segue.data.windows import WindowSampler, onehot
from segue.errors import SegueError
from segue.files import atomic_write_bytes
from segue.modelfile import SegueModel, load_model
from segue.models import Discriminator, Generator, get_loss
from segue.models.cvae import ContinuationEncoder, kl_divergence
from segue.models.lineprior import LinePrior
from segue.models.losses import feature_matching, gradient_penalty, r1_penalty
from segue.music.piece import Piece
from segue.music.tokens import FIRST_PITCH
from segue.sampling import continue_tokens, latent
from segue.training.checkpoint import list_checkpoints, load_checkpoint, read_checkpoint, save_checkpoint
from segue.training.runlog import RunLog
from segue.training.samples import write_samples

CVAE_METRICS = ["loss", "reconstruction", "kl", "beta", "fake_onsets", "real_onsets", "steps_per_s"]
METRICS = [
    "loss_d",
    "loss_g",
    "d_real",
    "d_fake",
    "d_mismatch",
    "tau",
    "fake_onsets",
    "real_onsets",
    "steps_per_s",
]


class TrainingDiverged(SegueError):
    """A loss became NaN or infinite."""


@dataclass
class Distributed:
    """Where this process stands in a (possibly) distributed run."""

    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def pick_device(name: str = "auto") -> torch.device:
    """CUDA if present, else Apple MPS, else CPU; or the device named."""
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise SegueError(f"--device {name}: CUDA is not available on this machine")
    if name == "mps" and not torch.backends.mps.is_available():
        raise SegueError("--device mps: Apple MPS is not available on this machine")
    if name not in ("auto", "cpu", "mps") and not name.startswith("cuda"):
        raise SegueError(f"--device {name}: choose auto, cpu, cuda, cuda:N or mps")
    if name.startswith("cuda") or (name == "auto" and torch.cuda.is_available()):
        index = torch.device(name if name != "auto" else "cuda").index
        device = torch.device("cuda", index if index is not None else int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
        return device
    if name != "auto":
        return torch.device(name)
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def init_distributed(device: torch.device) -> Distributed:
    """Join the process group when started by torchrun (WORLD_SIZE > 1)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Distributed()
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Distributed(dist.get_rank(), dist.get_world_size())


def git_commit() -> str:
    """The source tree's git commit, or "unknown"."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def tau_at(config: TrainConfig, step: int) -> float:
    """The Gumbel-softmax temperature at ``step``: geometric from tau_start to tau_end."""
    return config.tau_start * (config.tau_end / config.tau_start) ** min(1.0, step / config.steps)


def onset_rate(onehot: torch.Tensor) -> float:
    """Share of (voice, step) cells of (B, V, K, S) one-hots where a note starts."""
    return float(onehot.detach()[:, :, FIRST_PITCH:].sum(2).float().mean())


class Trainer:
    """Trains a model into ``run_dir``; ``run()`` returns the trained model."""

    def __init__(
        self,
        run_dir: str | Path,
        model_config: ModelConfig,
        train_config: TrainConfig,
        train_pieces: Sequence[Piece],
        sample_pieces: Sequence[Piece] = (),
        *,
        held_out: Sequence[Piece] = (),
        device: str = "auto",
        progress: bool = True,
        data_info: str = "",
    ) -> None:
        self.run_dir = Path(run_dir)
        self.mc, self.tc = model_config, train_config
        self.device = pick_device(device)
        self.dist = init_distributed(self.device)
        self.progress = progress and self.dist.main
        self.data_info = data_info
        self.sampler = WindowSampler(train_pieces, model_config, train_config.max_transpose)
        self.sample_pieces = list(sample_pieces)
        self.held_out = list(held_out)
        if train_config.deterministic:
            torch.use_deterministic_algorithms(True)
        torch.manual_seed(train_config.seed)  # identical initial weights on every rank
        self.G = Generator(model_config).to(self.device)
        self.D = Discriminator(model_config).to(self.device)
        if train_config.init:
            self._initialize(train_config.init)
        self.ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        betas = (train_config.beta1, train_config.beta2)
        self.E: ContinuationEncoder | None = None
        g_params = list(self.G.parameters())
        if train_config.method == "cvae" or train_config.reconstruction > 0:
            self.E = ContinuationEncoder(model_config).to(self.device)
            g_params += list(self.E.parameters())
        self.opt_g = torch.optim.Adam(g_params, lr=train_config.lr_g, betas=betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=train_config.lr_d, betas=betas)
        self.data_rng = torch.Generator().manual_seed(train_config.seed * 7919 + self.dist.rank)
        self.noise_rng = torch.Generator().manual_seed(train_config.seed * 104729 + self.dist.rank + 1)
        self.loss = get_loss(train_config.loss)
        self.G_train: torch.nn.Module = self.G
        self.D_train: torch.nn.Module = self.D
        if self.dist.world > 1:
            if train_config.method == "cvae" or train_config.reconstruction > 0:
                raise SegueError(
                    "config: the cvae method and reconstruction are not supported in distributed runs yet"
                )
            if train_config.r1_gamma > 0 or train_config.loss == "wgan-gp":
                raise SegueError("config: r1_gamma and wgan-gp are not supported in distributed runs yet")
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.G_train = DistributedDataParallel(self.G, device_ids=ids)
            self.D_train = DistributedDataParallel(self.D, device_ids=ids)
        self.step = 0
        self._group = math.gcd(train_config.batch_size, 4)  # minibatch-spread groups never mix batches

    def _initialize(self, folder: str) -> None:
        """Start G from a model folder; D too when that model was trained as a GAN with this D."""
        start = load_model(folder)
        d_only = {"d_channels", "spectral_norm", "minibatch_std", "d_intervals"}
        ours, theirs = to_dict(self.mc), to_dict(start.config)
        if {k: v for k, v in ours.items() if k not in d_only} != {
            k: v for k, v in theirs.items() if k not in d_only
        }:
            raise SegueError(f"init {folder}: its generator settings differ from this run's [model] settings")
        self.G.load_state_dict(start.generator.state_dict())
        if start.info.get("method", "gan") == "gan" and ours == theirs:
            self.D.load_state_dict(start.discriminator.state_dict())

    # -- state ---------------------------------------------------------------------------
    def _state(self) -> tuple[dict, dict]:  # type: ignore[type-arg]
        modules: dict[str, torch.nn.Module] = {"g": self.G, "d": self.D, "ema": self.ema}
        if self.E is not None:
            modules["e"] = self.E
        return modules, {"g": self.opt_g, "d": self.opt_d}

    def _rng_states(self) -> dict[str, torch.Tensor]:
        """Every rank's random-generator states (a collective call in distributed runs)."""
        local = {"data": self.data_rng.get_state(), "noise": self.noise_rng.get_state()}
        if self.dist.world == 1:
            ranks = [local]
        else:
            ranks = [{} for _ in range(self.dist.world)]
            dist.all_gather_object(ranks, local)
        return {
            f"{name}.r{rank}": state for rank, states in enumerate(ranks) for name, state in states.items()
        }

    def _configs(self) -> dict[str, object]:
        return {"model": to_dict(self.mc), "train": to_dict(self.tc), "world_size": self.dist.world}

    def resume(self) -> bool:
        """Restore the newest checkpoint of the run, if any; returns whether one was found.

        The model config must be the checkpoint's. Learning rates and betas are the
        current config's; the temperature schedule follows the current ``steps``.
        """
        found = list_checkpoints(self.run_dir / "checkpoints")
        if not found:
            return False
        meta, _ = read_checkpoint(found[-1])
        saved_model = meta.get("info", {}).get("model")
        if saved_model is not None and saved_model != to_dict(self.mc):
            raise SegueError(f"{found[-1]}: made with another model config than this run's; cannot resume")
        restored = load_checkpoint(found[-1], *self._state())
        self.step = restored.step
        rank = self.dist.rank
        for name, generator in (("data", self.data_rng), ("noise", self.noise_rng)):
            state = restored.rng_states.get(f"{name}.r{rank}")
            if state is None:  # more ranks now than when saved: a fresh, distinct stream
                generator.manual_seed(self.tc.seed * 7919 + 1_000_003 * rank + self.step)
            else:
                generator.set_state(state)
        for optimizer, lr in ((self.opt_g, self.tc.lr_g), (self.opt_d, self.tc.lr_d)):
            for group in optimizer.param_groups:
                group["lr"], group["betas"] = lr, (self.tc.beta1, self.tc.beta2)
        return True

    def save_checkpoint(self) -> Path | None:
        """Write a checkpoint of the current step (on the main process; call on every rank)."""
        states = self._rng_states()
        if not self.dist.main:
            return None
        return save_checkpoint(
            self.run_dir / "checkpoints", self.step, *self._state(), states, info=self._configs()
        )

    def model(self) -> SegueModel:
        """The trained model: G's moving average and D."""
        info = {
            "trained_steps": self.step,
            "method": self.tc.method,
            "data": self.data_info,
            "voice_ranges": self.sampler.voice_ranges.tolist(),
            "train": to_dict(self.tc),
        }
        lines = None
        if self.tc.line_strength > 0 or self.tc.parallels > 0:
            lines = LinePrior.fit(  # moves into each position of the bar, counted on the training pieces
                self.sampler.piece_grids(),
                self.mc.voices,
                self.mc.vocab - 2,
                self.tc.max_transpose,
                positions=self.mc.steps_per_bar,
                strength=self.tc.line_strength,
                parallels=self.tc.parallels,
            )
        ema, disc = copy.deepcopy(self.ema).cpu(), copy.deepcopy(self.D).cpu().eval()
        if lines is not None and self.tc.calibration_rounds > 0 and self.dist.main:
            lines = self._calibrate(lines, ema)  # only the main process saves the model
        return SegueModel(self.mc, ema, disc, info, lines)

    def _calibrate(self, lines: LinePrior, net: Generator) -> LinePrior:
        """The line prior calibrated on continuations of ``calibration_windows`` training windows
        and of every held-out window (the generator writes differently for music it has not
        seen, as users' music will be), untransposed."""
        from tqdm import tqdm

        order = torch.randperm(len(self.sampler), generator=torch.Generator().manual_seed(self.tc.seed))
        windows, reals = self.sampler.windows(order[: self.tc.calibration_windows])
        try:
            held = WindowSampler(self.held_out, self.mc, 0)
        except SegueError:  # no held-out piece is long enough
            held = None
        if held is not None:
            more, more_reals = held.windows(torch.arange(len(held)))
            windows, reals = torch.cat([windows, more]), torch.cat([reals, more_reals])
        primes = windows.numpy()

        def draw(prior: LinePrior, iteration: int) -> np.ndarray:
            generator = torch.Generator().manual_seed(self.tc.seed + 1 + iteration)
            chunks = [
                continue_tokens(net, windows[i : i + 256], self.mc.continuation_bars, generator, lines=prior)
                for i in range(0, len(windows), 256)
            ]
            return torch.cat(chunks).numpy()

        with tqdm(
            total=self.tc.calibration_rounds, disable=not self.progress, desc="calibrating", unit="round"
        ) as bar:

            def report(iteration: int, gap: float) -> None:
                bar.update()
                bar.set_postfix({"gap": f"{gap:.3f}"}, refresh=False)

            return lines.calibrate(draw, primes, reals.numpy(), self.tc.calibration_rounds, report=report)

    def write_config(self) -> None:
        """The full config, the package version and the git commit, as TOML."""
        tables = {
            "run": {
                "segue_version": __version__,
                "git_commit": git_commit(),
                "data": self.data_info,
                "device": str(self.device),
                "world_size": self.dist.world,
            },
            "model": to_dict(self.mc),
            "train": to_dict(self.tc),
        }
        atomic_write_bytes(self.run_dir / "config.toml", toml_dumps(tables).encode())

    # -- one step ------------------------------------------------------------------------
    def _autocast(self) -> torch.autocast:
        kind = self.device.type if self.device.type in ("cuda", "cpu") else "cpu"
        enabled = self.device.type == "cuda" or self.tc.precision == "bf16"
        return torch.autocast(kind, dtype=torch.bfloat16, enabled=enabled)

    def _batch(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        prior, real = self.sampler.sample(self.tc.batch_size, self.data_rng)
        vocab = self.mc.vocab
        return prior, onehot(prior, vocab).to(self.device), onehot(real, vocab).to(self.device)

    def _z(self) -> torch.Tensor:
        return latent(self.tc.batch_size, self.mc.z_dim, self.noise_rng).to(self.device)

    def train_step(self) -> dict[str, float]:
        """One generator update after ``d_steps`` discriminator updates (or one CVAE update)."""
        if self.tc.method == "cvae":
            return self._cvae_step()
        tc, tau = self.tc, tau_at(self.tc, self.step)
        G = self.G_train.module if isinstance(self.G_train, DistributedDataParallel) else self.G_train
        D_plain = self.D
        for _ in range(tc.d_steps):
            _, prior, real = self._batch()
            with torch.no_grad(), self._autocast():
                fake = G(prior, self._z(), tau, self.noise_rng)
            mismatch = real.roll(1, dims=0)
            with self._autocast():
                candidates = torch.cat([real, fake, mismatch])
                scores = self.D_train(prior.repeat(3, 1, 1, 1), candidates, group=self._group).float()
            s_real, s_fake, s_mis = scores.chunk(3)
            loss_d = (
                self.loss.d_real(s_real) + self.loss.d_fake(s_fake) + tc.mismatch * self.loss.d_fake(s_mis)
            )
            critic = functools.partial(D_plain, prior)  # candidate -> scores under this batch's priors
            if tc.loss == "wgan-gp":
                weight = torch.rand(len(real), 1, 1, 1, generator=self.noise_rng).to(self.device)
                loss_d = loss_d + tc.gp_weight * gradient_penalty(critic, real, fake, weight)
            if tc.r1_gamma > 0:
                loss_d = loss_d + tc.r1_gamma / 2 * r1_penalty(critic, real)
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            self.opt_d.step()
        _, prior, real = self._batch()
        with self._autocast():
            fake = self.G_train(prior, self._z(), tau, self.noise_rng)
            if tc.feature_matching > 0:
                feats = D_plain.features(prior.repeat(2, 1, 1, 1), torch.cat([real, fake]), self._group)
                real_f, fake_f = feats.chunk(2)
                s_fake_g = D_plain.score(fake_f, prior, fake).float()
            else:
                s_fake_g = D_plain(prior, fake).float()
        loss_g = self.loss.g(s_fake_g)
        if tc.feature_matching > 0:
            loss_g = loss_g + tc.feature_matching * feature_matching(real_f, fake_f)
        extra = {}
        if tc.reconstruction > 0:
            reconstruction, kl, beta, _ = self._reconstruction(prior, real)
            loss_g = loss_g + tc.reconstruction * (reconstruction + beta * kl)
            extra = {"reconstruction": reconstruction.item(), "kl": kl.item()}
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_d.zero_grad(set_to_none=True)  # G's backward passed through D: drop those gradients
        self.opt_g.step()
        self._update_ema()
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
        if self.dist.world > 1:  # every rank stops together, never one alone
            dist.all_reduce(finite, op=dist.ReduceOp.MIN)
        if not finite.item():
            raise TrainingDiverged(
                f"loss became {values['loss_d']} (D) / {values['loss_g']} (G) at step {self.step + 1}; "
                f"the last good checkpoint is kept in {self.run_dir / 'checkpoints'}"
            )
        return values

    def _reconstruction(
        self, prior: torch.Tensor, real: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, float, torch.Tensor]:
        """The CVAE terms: token cross-entropy of G rebuilding ``real`` from the encoder's z,
        the KL divergence per token, the KL weight (warming up) and G's logits."""
        assert self.E is not None
        beta = min(1.0, self.step / max(1.0, self.tc.kl_warmup * self.tc.steps))
        with self._autocast():
            mu, logvar = self.E(prior, real)
            noise = torch.randn(mu.shape, generator=self.noise_rng).to(self.device)
            logits = self.G.logits(prior, mu + noise * (0.5 * logvar).exp())
        targets = real.argmax(2)  # (B, V, Sc)
        reconstruction = torch.nn.functional.cross_entropy(logits.float().transpose(1, 2), targets)
        kl = kl_divergence(mu, logvar) / (self.mc.voices * self.mc.continuation_steps)
        return reconstruction, kl, beta, logits

    def _cvae_step(self) -> dict[str, float]:
        """Maximum likelihood: token cross-entropy plus the KL term, its weight warming up."""
        _, prior, real = self._batch()
        reconstruction, kl, beta, logits = self._reconstruction(prior, real)
        loss = reconstruction + beta * kl
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        self._update_ema()
        values = {
            "loss": loss.item(),
            "reconstruction": reconstruction.item(),
            "kl": kl.item(),
            "beta": beta,
            "fake_onsets": float(logits.detach().float().softmax(2)[:, :, FIRST_PITCH:].sum(2).mean()),
            "real_onsets": onset_rate(real),
        }
        if not all(math.isfinite(v) for v in values.values()):
            raise TrainingDiverged(f"the CVAE loss became {values['loss']} at step {self.step + 1}")
        return values

    @torch.no_grad()
    def _update_ema(self) -> None:
        decay = min(self.tc.ema_decay, (1 + self.step) / (10 + self.step))
        for ema_p, p in zip(self.ema.parameters(), self.G.parameters()):
            ema_p.lerp_(p.detach(), 1 - decay)
        for ema_b, b in zip(self.ema.buffers(), self.G.buffers()):
            ema_b.copy_(b)

    # -- the loop ------------------------------------------------------------------------
    def run(self, resume: bool = False) -> SegueModel:
        """Train to ``steps``; with ``resume``, continue from the newest checkpoint."""
        from tqdm import tqdm

        self.run_dir.mkdir(parents=True, exist_ok=True)
        resumed = self.resume() if resume else False
        if self.dist.main:
            self.write_config()
        if self.tc.method == "cvae":
            fields = CVAE_METRICS
        else:
            fields = (
                METRICS[:-1] + (["reconstruction", "kl"] if self.tc.reconstruction > 0 else []) + METRICS[-1:]
            )
        log = RunLog(self.run_dir, fields, self.step if resumed else None) if self.dist.main else None
        fault_at = int(os.environ.get("SEGUE_FAULT_AT_STEP", "0"))
        bar = tqdm(
            total=self.tc.steps, initial=self.step, disable=not self.progress, unit="step", dynamic_ncols=True
        )
        started, done_here = time.perf_counter(), 0
        try:
            while self.step < self.tc.steps:
                values = self.train_step()
                self.step += 1
                done_here += 1
                values["steps_per_s"] = done_here / (time.perf_counter() - started)
                bar.update()
                bar.set_postfix({k: f"{v:.3f}" for k, v in list(values.items())[:2]}, refresh=False)
                self._periodic(log, values)
                if fault_at and self.step == fault_at:  # tests: die the hard way, mid-run
                    os.kill(os.getpid(), signal.SIGKILL)
        finally:
            bar.close()
            if log is not None:
                log.close()
        model = self.model()
        if self.dist.main:
            model.save(self.run_dir / "model")
        if self.dist.world > 1:
            dist.barrier()
            dist.destroy_process_group()
        return model

    def _periodic(self, log: RunLog | None, values: dict[str, float]) -> None:
        last = self.step == self.tc.steps
        if self.step % self.tc.checkpoint_every == 0 or last:
            self.save_checkpoint()  # every rank takes part: it gathers their random states
        if not self.dist.main or log is None:
            return
        if self.step % self.tc.log_every == 0 or last:
            log.log(self.step, values)
        if self.sample_pieces and (self.step % self.tc.sample_every == 0 or last):
            folder = self.run_dir / "samples" / f"step-{self.step:07d}"
            write_samples(self.ema, self.sample_pieces, folder, seed=self.tc.seed)

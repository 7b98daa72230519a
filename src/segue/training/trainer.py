"""The training loop: batches of windows, one step of the method (:mod:`segue.training.gan` or
:mod:`segue.training.cvae`), G's moving average, logs, checkpoints and samples; at the end the
sampler is fitted (:mod:`segue.training.calibration`) and the model folder written. Runs on
CPU, CUDA or Apple MPS, and with DistributedDataParallel under ``torchrun``.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from segue.configfile import from_dict, to_dict, toml_dumps
from segue.errors import SegueError
from segue.files import atomic_write_bytes
from segue.models import Discriminator, Generator
from segue.models.blocks import onehot
from segue.models.config import ModelConfig
from segue.models.cvae import ContinuationEncoder
from segue.music.piece import Piece
from segue.pipeline.model import SegueModel, load_model
from segue.pipeline.sampling import latent
from segue.sampler import SamplerConfig
from segue.training import cvae, gan
from segue.training.calibration import calibrate_sampler, fit_sampler
from segue.training.checkpoint import list_checkpoints, load_checkpoint, read_checkpoint, save_checkpoint
from segue.training.config import TrainConfig
from segue.training.metrics import TrainingDiverged
from segue.training.precision import Choice, choose_precision, time_step
from segue.training.runlog import RunLog
from segue.training.runtime import autocast, git_commit, init_distributed, pick_device
from segue.training.samples import Picture, write_samples
from segue.training.windows import WindowSampler
from segue.version import __version__

__all__ = ["Trainer", "TrainingDiverged", "fitting_tensors"]


def fitting_tensors(target: torch.nn.Module, source: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The tensors of ``source``'s state that ``target`` has under the same name and shape."""
    shapes = {name: tensor.shape for name, tensor in target.state_dict().items()}
    return {name: t for name, t in source.state_dict().items() if shapes.get(name) == t.shape}


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
        sampler_config: SamplerConfig | None = None,
        held_out: Sequence[Piece] = (),
        device: str = "auto",
        progress: bool = True,
        data_info: str = "",
        picture: Picture | None = None,
        on_step: Callable[[int], None] | None = None,
    ) -> None:
        """``picture`` draws each sample continuation (a PNG beside its MIDI); ``on_step`` is
        called with the step number after every step (tests use it to kill a run midway);
        ``held_out`` are the held-out pieces whose windows the sampler's calibration continues
        besides training windows (``segue train`` gives it one half of the validation pieces,
        :func:`segue.training.calibration.validation_half`)."""
        self.run_dir = Path(run_dir)
        self.mc, self.tc = model_config, train_config
        self.sc = sampler_config if sampler_config is not None else SamplerConfig()
        self.picture, self.on_step = picture, on_step
        self.device = pick_device(device)
        self.dist = init_distributed(self.device)
        self.progress = progress and self.dist.main
        self.data_info = data_info
        # on CUDA the windows are cut and the noise drawn on the GPU, from CUDA generators
        self.rng_device = self.device if self.device.type == "cuda" else torch.device("cpu")
        self.windows = WindowSampler(train_pieces, model_config, train_config.max_transpose)
        self.windows.to(self.rng_device)
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
        self.data_rng = torch.Generator(self.rng_device).manual_seed(
            train_config.seed * 7919 + self.dist.rank
        )
        self.noise_rng = torch.Generator(self.rng_device).manual_seed(
            train_config.seed * 104729 + self.dist.rank + 1
        )
        self.G_train: torch.nn.Module = self.G
        self.D_train: torch.nn.Module = self.D
        if self.dist.world > 1:
            if train_config.method == "cvae" or train_config.reconstruction > 0:
                raise SegueError(
                    "config: the cvae method and reconstruction are not supported in distributed runs yet"
                )
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.G_train = DistributedDataParallel(self.G, device_ids=ids)
            self.D_train = DistributedDataParallel(self.D, device_ids=ids)
        self.step = 0
        self.group = math.gcd(train_config.batch_size, 4)  # minibatch-spread groups never mix batches
        self.precision: Choice = choose_precision(train_config.precision, self.device, self._probe)
        self.tc = dataclasses.replace(train_config, precision=self.precision.precision)

    def _probe(self, precision: str) -> float:
        """Seconds of one forward and backward pass of G and D in ``precision``, on copies of
        both (the run's weights, random states and data draws are left as they were)."""
        G, D = copy.deepcopy(self.G), copy.deepcopy(self.D)
        rng = torch.Generator(self.rng_device).manual_seed(0)
        tokens, real_tokens = self.windows.sample(self.tc.batch_size, rng)
        context = onehot(tokens, self.mc.vocab).to(self.device)
        real = onehot(real_tokens, self.mc.vocab).to(self.device)
        z = latent(self.tc.batch_size, self.mc.z_dim, rng).to(self.device)

        def step() -> None:
            with autocast(self.device, precision):
                fake = G(context, z, 1.0, rng)
                scores = D(context.repeat(2, 1, 1, 1), torch.cat([real, fake]), group=self.group)
            scores.float().mean().backward()
            G.zero_grad(set_to_none=True)
            D.zero_grad(set_to_none=True)

        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            return time_step(step)

    def _initialize(self, folder: str) -> None:
        """Start G from a model folder; D too when that model was trained as a GAN with this D.

        A model of another meter or grid lends G every tensor whose shape fits (all but the layers
        that span a bar or the whole window); the rest keep their fresh initial weights."""
        start = load_model(folder)
        # G's tensors do not read these (a plan adds tensors, which start fresh)
        free = {"d_channels", "spectral_norm", "minibatch_std", "dropout", "plan", "plan_pull"}
        ours, theirs = to_dict(self.mc), to_dict(start.config)
        grid = {"meter", "steps_per_beat"}
        if {k: v for k, v in ours.items() if k not in free | grid} != {
            k: v for k, v in theirs.items() if k not in free | grid
        }:
            raise SegueError(f"init {folder}: its generator settings differ from this run's [model] settings")
        if any(ours[k] != theirs[k] for k in grid):
            kept = fitting_tensors(self.G, start.generator)
            self.G.load_state_dict(kept, strict=False)
            fresh = sorted(set(self.G.state_dict()) - set(kept))
            if self.dist.main:
                print(
                    f"init {folder} ({theirs['meter']}, {theirs['steps_per_beat']} steps per beat): "
                    f"{len(kept)} of {len(kept) + len(fresh)} of G's "
                    f"tensors taken; fresh for this meter: {', '.join(fresh)}"
                )
            return
        self.G.load_state_dict(start.generator.state_dict(), strict=ours["plan"] == theirs["plan"])
        unread = ("dropout", "plan", "plan_pull")  # D reads none of these
        same_d = all(ours[k] == theirs[k] for k in ours if k not in unread)
        if start.info.get("method", "gan") == "gan" and same_d:
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
        return {
            "model": to_dict(self.mc),
            "train": to_dict(self.tc),
            "sampler": to_dict(self.sc),
            "world_size": self.dist.world,
        }

    def _same_model(self, saved: dict) -> bool:  # type: ignore[type-arg]
        """Whether a checkpoint's model settings are this run's, settings added since it was
        saved taking their defaults."""
        try:
            return to_dict(from_dict(ModelConfig, saved, "checkpoint")) == to_dict(self.mc)
        except SegueError:  # a setting this version does not know, or a value it refuses
            return False

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
        if saved_model is not None and not self._same_model(saved_model):
            raise SegueError(f"{found[-1]}: made with another model config than this run's; cannot resume")
        restored = load_checkpoint(found[-1], *self._state())
        self.step = restored.step
        rank = self.dist.rank
        for name, rng in (("data", self.data_rng), ("noise", self.noise_rng)):
            state = restored.rng_states.get(f"{name}.r{rank}")
            if state is None:  # more ranks now than when saved: a fresh, distinct stream
                rng.manual_seed(self.tc.seed * 7919 + 1_000_003 * rank + self.step)
            else:
                rng.set_state(state)
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
        """The trained model: G's moving average and D, with the sampler fitted to them."""
        info = {
            "trained_steps": self.step,
            "method": self.tc.method,
            "data": self.data_info,
            "train": to_dict(self.tc),
            "sampler": to_dict(self.sc),
        }
        ema, disc = copy.deepcopy(self.ema).cpu(), copy.deepcopy(self.D).cpu().eval()
        model = SegueModel(self.mc, ema, disc, info)
        model.voice_ranges = tuple((int(lo), int(hi)) for lo, hi in self.windows.voice_ranges.tolist())
        if self.sc.enabled:
            chain = fit_sampler(self.windows, self.mc, self.sc, self.tc.max_transpose)
            model.sampler = chain
            if self.sc.calibration_rounds > 0 and self.dist.main:  # only the main process saves the model
                model.sampler = calibrate_sampler(
                    chain,
                    ema,
                    self.windows,
                    self.held_out,
                    self.sc,
                    self.tc.seed,
                    self.progress,
                    max_transpose=self.tc.max_transpose,
                )
        return model

    def write_config(self) -> None:
        """The full config, the package version and the git commit, as TOML."""
        tables = {
            "run": {
                "segue_version": __version__,
                "git_commit": git_commit(),
                "data": self.data_info,
                "device": str(self.device),
                "world_size": self.dist.world,
                "precision": str(self.precision),
            },
            "model": to_dict(self.mc),
            "train": to_dict(self.tc),
            "sampler": to_dict(self.sc),
        }
        atomic_write_bytes(self.run_dir / "config.toml", toml_dumps(tables).encode())

    # -- what a step uses ------------------------------------------------------------------
    def autocast(self) -> torch.autocast:
        """Mixed precision for this run's device and precision."""
        return autocast(self.device, self.tc.precision)

    def batch(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """A batch: context tokens (B, V, Sp), and context and real continuation one-hots."""
        context, real = self.windows.sample(self.tc.batch_size, self.data_rng)
        vocab = self.mc.vocab
        return context, onehot(context, vocab).to(self.device), onehot(real, vocab).to(self.device)

    def z(self) -> torch.Tensor:
        """A batch of latent noise from the run's noise generator."""
        return latent(self.tc.batch_size, self.mc.z_dim, self.noise_rng).to(self.device)  # on its device

    def train_step(self) -> dict[str, float]:
        """One step of the run's method."""
        return cvae.cvae_step(self) if self.tc.method == "cvae" else gan.gan_step(self)

    @torch.no_grad()
    def update_ema(self) -> None:
        """Move G's exponential moving average towards G."""
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
            fields = cvae.METRICS
        else:
            fields = gan.METRICS + (["reconstruction", "kl"] if self.tc.reconstruction > 0 else [])
        fields = [*fields, "steps_per_s"]
        log = RunLog(self.run_dir, fields, self.step if resumed else None) if self.dist.main else None
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
                if self.on_step is not None:
                    self.on_step(self.step)
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
            write_samples(self.ema, self.sample_pieces, folder, seed=self.tc.seed, picture=self.picture)

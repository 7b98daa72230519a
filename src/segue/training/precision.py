"""Which precision a training run uses: ``auto`` takes bf16 where it is fast and fp32 elsewhere.

bf16 autocast halves the cost of the convolutions on hardware that computes in bf16 (CUDA
GPUs from Ampere on, CPUs with AVX-512 BF16 or AMX) and is many times slower than fp32 where
it has to be emulated (a CPU with AVX2 only: 14x on one such machine). ``auto`` decides by the
device's capability; where the capability says bf16 may be faster but cannot say by how much
(a CPU with native bf16), a short measurement of both on the run's own model decides.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

_BF16_ISAS = ("BF16", "FP16", "AMX", "AVX10", "ALL")
"""Parts of an ``ONEDNN_MAX_CPU_ISA`` value that leave oneDNN its bf16 instructions."""


@dataclass(frozen=True)
class CpuSupport:
    """What this CPU computes bf16 with, as PyTorch will run it."""

    avx512_bf16: bool
    amx: bool
    aten: str
    """ATen's kernel level (``torch.backends.cpu.get_cpu_capability()``: AVX512, AVX2, DEFAULT ...)."""
    onednn_limit: str
    """``ONEDNN_MAX_CPU_ISA`` (or ``DNNL_MAX_CPU_ISA``) if set, else empty."""

    @property
    def native_bf16(self) -> bool:
        """Whether bf16 runs on bf16 instructions (not emulated in fp32)."""
        hardware = self.avx512_bf16 or self.amx
        limit = self.onednn_limit.upper()
        onednn = not limit or any(isa in limit for isa in _BF16_ISAS)
        return hardware and onednn and self.aten.upper().startswith("AVX512")

    @property
    def flags(self) -> str:
        """What decides, in words: "avx512_bf16, ATen kernels AVX2, oneDNN limited to AVX2"."""
        hardware = [name for name, on in (("avx512_bf16", self.avx512_bf16), ("amx", self.amx)) if on]
        parts = [" ".join(hardware) or "no avx512_bf16 or amx", f"ATen kernels {self.aten}"]
        if self.onednn_limit:
            parts.append(f"oneDNN limited to {self.onednn_limit}")
        return ", ".join(parts)


FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16")
"""The CPU flags that decide how fast training runs, as /proc/cpuinfo names them."""


def cpu_flags() -> str:
    """Which of :data:`FLAGS` this CPU has, as /proc/cpuinfo lists them ("unknown" elsewhere)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown"
    line = next((line for line in text.splitlines() if line.startswith("flags")), "")
    present = set(line.split(":", 1)[-1].split())
    return " ".join(flag for flag in FLAGS if flag in present) or "none of " + " ".join(FLAGS)


def cpu_support() -> CpuSupport:
    """This CPU's bf16 support, as PyTorch will use it (honouring ``ONEDNN_MAX_CPU_ISA`` and
    ``ATEN_CPU_CAPABILITY``, which make a CPU run as an older one would)."""
    return CpuSupport(
        avx512_bf16=bool(torch.cpu._is_avx512_bf16_supported()),
        amx=bool(torch.cpu._is_amx_tile_supported()),
        aten=torch.backends.cpu.get_cpu_capability(),
        onednn_limit=os.environ.get("ONEDNN_MAX_CPU_ISA", os.environ.get("DNNL_MAX_CPU_ISA", "")),
    )


@dataclass(frozen=True)
class Choice:
    """The precision a run uses, and why."""

    precision: str
    """fp32 or bf16."""
    reason: str

    def __str__(self) -> str:
        return f"{self.precision} ({self.reason})"


Probe = Callable[[str], float]
"""Seconds that one training step of the run's model takes in a precision ("fp32" or "bf16")."""


def choose_precision(
    requested: str,
    device: torch.device,
    probe: Probe | None = None,
    support: CpuSupport | None = None,
) -> Choice:
    """The precision for a run on ``device``: ``requested`` if fp32 or bf16, else the fast one.

    On a CPU with native bf16, ``probe`` (if given) times a step in each precision and the
    faster wins; without a probe such a CPU takes bf16. An explicit bf16 where bf16 is not
    native still runs, with a warning on stderr.
    """
    support = support if support is not None or device.type != "cpu" else cpu_support()
    if requested == "fp32":
        return Choice("fp32", "asked for")
    if requested == "bf16":
        if device.type == "cpu" and support is not None and not support.native_bf16:
            print(
                f"segue: warning: precision bf16 on a CPU without native bf16 ({support.flags}): "
                'training will be many times slower than fp32; use precision = "auto" or "fp32"',
                file=sys.stderr,
            )
        return Choice("bf16", "asked for")
    if requested != "auto":
        raise ValueError(f"precision must be auto, fp32 or bf16, not {requested!r}")
    if device.type == "cuda":
        if torch.cuda.is_bf16_supported():
            return Choice("bf16", f"auto: {torch.cuda.get_device_name(device)} computes in bf16")
        return Choice("fp32", f"auto: {torch.cuda.get_device_name(device)} has no bf16")
    if device.type != "cpu" or support is None:
        return Choice("fp32", f"auto: bf16 autocast is not used on {device.type}")
    if not support.native_bf16:
        return Choice("fp32", f"auto: this CPU has no native bf16 ({support.flags})")
    if probe is None:
        return Choice("bf16", f"auto: this CPU has native bf16 ({support.flags})")
    fp32, bf16 = probe("fp32"), probe("bf16")
    winner = "bf16" if bf16 < fp32 else "fp32"
    measured = f"a step took {1000 * fp32:.0f} ms in fp32, {1000 * bf16:.0f} ms in bf16"
    return Choice(winner, f"auto: native bf16 ({support.flags}); {measured}")


def time_step(step: Callable[[], object], repeats: int = 3) -> float:
    """The fastest of ``repeats`` timed calls of ``step``, after one warm-up call."""
    step()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - start)
    return best

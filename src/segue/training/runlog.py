"""The run directory's logs: a plain CSV and TensorBoard events (when tensorboard is installed)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any


class RunLog:
    """Append metric rows to ``metrics.csv`` and TensorBoard; on resume, rows past the
    checkpoint's step are dropped so the log matches the restored run."""

    def __init__(self, run_dir: Path, fields: list[str], resume_step: int | None = None) -> None:
        self.path = run_dir / "metrics.csv"
        self.fields = ["step", *fields]
        if resume_step is not None and self.path.exists():
            with open(self.path, newline="") as handle:
                rows = [r for r in csv.DictReader(handle) if int(r["step"]) <= resume_step]
            self._write_rows(rows)
        elif resume_step is None or not self.path.exists():
            self._write_rows([])
        self._handle = open(self.path, "a", newline="")
        self._csv = csv.DictWriter(self._handle, fieldnames=self.fields)
        self._tb: Any = None
        try:
            from torch.utils.tensorboard import SummaryWriter

            self._tb = SummaryWriter(
                str(run_dir / "tensorboard"), purge_step=None if resume_step is None else resume_step + 1
            )
        except ImportError:  # pragma: no cover - tensorboard is a dependency, but optional here
            self._tb = None

    def _write_rows(self, rows: list[dict[str, str]]) -> None:
        with open(self.path, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=self.fields)
            writer.writeheader()
            writer.writerows(rows)

    def log(self, step: int, values: dict[str, float]) -> None:
        """Write one row."""
        self._csv.writerow({"step": step, **{k: f"{v:.6g}" for k, v in values.items()}})
        self._handle.flush()
        if self._tb is not None:
            for key, value in values.items():
                self._tb.add_scalar(key, value, step)

    def close(self) -> None:
        """Flush and close both logs."""
        self._handle.close()
        if self._tb is not None:
            self._tb.close()

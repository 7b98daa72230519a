"""Shared fixtures and the test markers.

Markers (``pytest -m "not slow"`` is the quick loop; ``make test`` runs everything):
``slow`` trains or evaluates for real, ``subprocess`` starts segue as a process, ``browser``
drives Chromium. They are given by file below, so a new test in such a file carries them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from segue.pipeline.model import SegueModel
from tests.ports import free_port as _free_port
from tests.tiny import TINY_MODEL

TINY_RANGES = ((60, 81), (53, 74), (48, 69), (36, 62))
"""Chorale-like voice ranges for the tiny model."""

MARKS = {
    "browser": ("test_studio_browser.py",),
    "subprocess": (
        "commands/test_serve.py",
        "commands/test_startup.py",
        "data/test_build.py",
        "training/test_trainer.py",
        "test_demo.py",
    ),
    "slow": (
        "training/test_trainer.py",
        "test_evaluation.py",
        "test_hostile.py",
        "music/test_fuzz.py",
        "sampler/test_calibration.py",
        "models/test_shipped_model.py",
        "test_studio_browser.py",
    ),
}


def pytest_configure(config: pytest.Config) -> None:
    for name, what in (
        ("slow", "trains, evaluates or fuzzes for real (seconds to a minute)"),
        ("subprocess", "starts segue as a separate process"),
        ("browser", "drives Chromium"),
    ):
        config.addinivalue_line("markers", f"{name}: {what}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.fspath)).as_posix()
        for mark, files in MARKS.items():
            if any(path.endswith(f"tests/{f}") for f in files):
                item.add_marker(getattr(pytest.mark, mark))


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of a tiny, untrained model with chorale-like voice ranges (sampled plainly)."""
    torch.manual_seed(0)
    model = SegueModel.create(TINY_MODEL)
    model.voice_ranges = TINY_RANGES
    return model.save(tmp_path_factory.mktemp("model") / "tiny")


@pytest.fixture
def free_port() -> int:
    """A free TCP port on loopback."""
    return _free_port()

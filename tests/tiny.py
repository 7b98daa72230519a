"""A debug-sized model and training config, so that tests take seconds."""

from segue.models.config import ModelConfig
from segue.training.config import TrainConfig
from segue.configfile import to_dict, toml_dumps

TINY_MODEL = ModelConfig(
    context_bars=1, continuation_bars=1, z_dim=8, embed_dim=4, channels=16, d_channels=16, lowest=36, highest=84
)
TINY_TRAIN = TrainConfig(
    steps=6,
    batch_size=8,
    log_every=1,
    checkpoint_every=2,
    sample_every=3,
    deterministic=True,
    calibration_rounds=2,
    calibration_windows=32,
)


def tiny_toml(**train_overrides: object) -> str:
    """The tiny configs as a TOML file's text."""
    train = {**to_dict(TINY_TRAIN), **train_overrides}
    return toml_dumps({"model": to_dict(TINY_MODEL), "train": train})

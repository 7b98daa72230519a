"""The GAN's networks and objective, and their configs; no I/O here."""

from segue.models.config import LSTMConfig, ModelConfig
from segue.models.discriminator import Discriminator
from segue.models.generator import Conditioner, Generator
from segue.models.losses import HINGE, GanLoss

__all__ = ["HINGE", "Conditioner", "Discriminator", "GanLoss", "Generator", "LSTMConfig", "ModelConfig"]

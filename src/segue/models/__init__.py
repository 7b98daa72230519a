"""The GAN's networks and objectives; no I/O and no configuration files here."""

from segue.models.discriminator import Discriminator
from segue.models.generator import Conditioner, Generator
from segue.models.losses import GanLoss, get_loss

__all__ = ["Conditioner", "Discriminator", "GanLoss", "Generator", "get_loss"]

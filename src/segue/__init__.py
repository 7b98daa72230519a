"""segue: a conditional GAN that continues music, bar after bar."""

__version__ = "0.1.0"

__all__ = ["__version__"]

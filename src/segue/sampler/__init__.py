"""How tokens are drawn from the generator's output (the "scheduler" of a diffusion pipeline):
a component of its own, with its own config and its own section of a model folder.

* :mod:`segue.sampler.base` the interface and the plain sampler (every cell on its own);
* :mod:`segue.sampler.voiceleading` the voice-leading sampler, built from
  :mod:`~segue.sampler.states` (the state space and classes of moves),
  :mod:`~segue.sampler.chain` (the moves counted on the training data),
  :mod:`~segue.sampler.calibration` (weights fitted by moment matching) and
  :mod:`~segue.sampler.draw` (forward filtering, backward sampling);
* :mod:`segue.sampler.textured` one voice-leading sampler per texture of context (melody, parts);
* :mod:`segue.sampler.rhythm` a choice among several draws of each window by their rhythm
  (importance resampling towards the training data's note lengths and voices striking together);
* :mod:`segue.sampler.folder` its section of a model folder; :mod:`segue.sampler.config` its settings.

The sampler is fitted from training data only, never from the evaluation's.
"""

from segue.sampler.base import PlainSampler, Sampler
from segue.sampler.calibration import Calibration, calibrate
from segue.sampler.config import SamplerConfig
from segue.sampler.textured import TexturedSampler
from segue.sampler.voiceleading import VoiceLeadingSampler

__all__ = [
    "Calibration",
    "PlainSampler",
    "Sampler",
    "SamplerConfig",
    "TexturedSampler",
    "VoiceLeadingSampler",
    "calibrate",
]

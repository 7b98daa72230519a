"""Measure continuations against the real ones and honest baselines.

For every test piece and several windows per piece: prime with K bars, let each system
continue N bars, and measure (see :mod:`segue.metrics`). The systems: the GAN, the real
continuation (the reference), the prime's last bars repeated, another test piece's real
continuation transposed into the prime's key, a per-voice Markov chain fitted on the
train split, and any others the caller adds (the conditional VAE, the LSTM). A classifier
two-sample test asks how well (prime, continuation) pairs of a system can be told from
real pairs: 0.5 means indistinguishable.

* :mod:`segue.evaluation.windows` the test windows (primes and real continuations);
* :mod:`segue.evaluation.scores` the report's columns and the per-window scores of a system;
* :mod:`segue.evaluation.twosample` the pair features and the classifier two-sample test;
* :mod:`segue.evaluation.systems` the GAN, LSTM and Markov systems;
  :mod:`segue.evaluation.baselines` the prime repeated, transposition, the Markov chain;
* :mod:`segue.evaluation.report` :func:`evaluate`, its :class:`Report` and the Markdown.
"""

from segue.evaluation.report import Report, evaluate, render_markdown
from segue.evaluation.scores import METRICS, TABLES, SystemScores, score_system
from segue.evaluation.systems import SYSTEMS, Continuer, lstm_system, markov_system, model_system
from segue.evaluation.twosample import (
    classifier_accuracy,
    named_pair_features,
    pair_features,
    repetition_features,
    telltales,
)
from segue.evaluation.windows import Windows, continuation_notes, other_piece, test_windows

__all__ = [
    "METRICS",
    "SYSTEMS",
    "TABLES",
    "Continuer",
    "Report",
    "SystemScores",
    "Windows",
    "classifier_accuracy",
    "continuation_notes",
    "evaluate",
    "lstm_system",
    "markov_system",
    "model_system",
    "named_pair_features",
    "other_piece",
    "pair_features",
    "render_markdown",
    "repetition_features",
    "score_system",
    "telltales",
    "test_windows",
]

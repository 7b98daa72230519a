"""A voice-leading prior for sampling: how each voice moves from one step to the next.

The generator scores every (voice, step) cell on its own, so independent draws from
its softmax can jump between two good notes of a chord from one step to the next.
:class:`LinePrior` is a first-order chain per voice, counted on the training data,
over the states "rest", "pitch p starts" and "pitch p goes on"; :func:`sample_lines`
draws each voice's line from the product of the generator's per-cell distribution and
the chain's *dependence* term, log P(s | s') - log P(token(s)) (so the tokens'
frequencies, which the generator already knows, are not counted twice), with weight
``strength``:

    p(s_1..s_n) ∝ Π_t softmax(logits_t / T)[token(s_t)] · (P(s_t | s_t-1) / P(token(s_t)))^strength

drawn exactly by forward filtering and backward sampling. Strength 0 is the plain
independent draw.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from segue.music.tokens import FIRST_PITCH, HOLD, REST


def state_tokens(pitches: int) -> torch.Tensor:
    """The token of each state: rest, then ``pitches`` onsets, then ``pitches`` holds."""
    return torch.cat(
        [torch.tensor([REST]), FIRST_PITCH + torch.arange(pitches), torch.full((pitches,), HOLD)]
    ).long()


def to_states(tokens: np.ndarray, pitches: int) -> np.ndarray:
    """(..., S) tokens -> (..., S) states; a hold carries the pitch sounding before it (rest after a rest)."""
    tokens = np.asarray(tokens)
    states = np.zeros(tokens.shape, dtype=np.int64)
    sounding = np.full(tokens.shape[:-1], -1, dtype=np.int64)  # pitch index, -1 for silence
    for t in range(tokens.shape[-1]):
        token = tokens[..., t]
        onset = token >= FIRST_PITCH
        sounding = np.where(onset, token - FIRST_PITCH, np.where(token == REST, -1, sounding))
        held = (token == HOLD) & (sounding >= 0)
        states[..., t] = np.where(onset, 1 + sounding, np.where(held, 1 + pitches + sounding, 0))
    return states


class LinePrior:
    """Per-voice step-to-step log-potentials, (V, 2P+1, 2P+1): log P(s | s') - log P(token(s)),
    and how strongly to use them: ``strength`` for the lines, ``parallels`` for the penalty on
    parallel fifths and octaves (see :func:`sample_lines`)."""

    def __init__(self, potentials: torch.Tensor, strength: float = 1.0, parallels: float = 5.0) -> None:
        if potentials.dim() == 3:
            potentials = potentials[:, None]  # the same moves at every position in the bar
        if (
            potentials.dim() != 4
            or potentials.shape[2] != potentials.shape[3]
            or potentials.shape[2] % 2 != 1
        ):
            raise ValueError("potentials must have shape (voices, [positions,] 2P+1, 2P+1)")
        if not (0 <= strength <= 10 and 0 <= parallels <= 100):
            raise ValueError("need 0 <= strength <= 10 and 0 <= parallels <= 100")
        self.potentials = potentials.float()  # (V, M, N, N): M positions in the bar (1: any)
        self.strength, self.parallels = float(strength), float(parallels)

    def sample(
        self, logits: torch.Tensor, start: torch.Tensor, generator: torch.Generator, temperature: float = 1.0
    ) -> torch.Tensor:
        """(B, V, S) tokens from (B, V, K, S) logits, continuing from ``start`` states (B, V)."""
        return sample_lines(logits, start, self, generator, temperature, self.strength, self.parallels)

    @property
    def pitches(self) -> int:
        return (self.potentials.shape[2] - 1) // 2

    @classmethod
    def fit(
        cls,
        grids: Sequence[np.ndarray],
        voices: int,
        pitches: int,
        max_shift: int = 5,
        smoothing: float = 0.5,
        pseudo: float = 20.0,
        positions: int = 1,
        strength: float = 1.0,
        parallels: float = 5.0,
    ) -> LinePrior:
        """Count step-to-step moves in (V, S) token grids, in every transposition up to ``max_shift``.

        With ``positions`` M > 1 (the steps of a bar; grids start on a bar line) the moves into
        each position of the bar are counted apart, shrunk towards the moves at any position.
        """
        size = 2 * pitches + 1
        counts = np.zeros((voices, positions, size, size))
        for grid in grids:
            states = to_states(grid, pitches)  # (V, S)
            where = np.arange(1, states.shape[1]) % positions  # the position of each move's target
            for shift in range(-max_shift, max_shift + 1):
                moved = _shift(states, shift, pitches)
                if moved is None:
                    continue
                for v in range(voices):
                    np.add.at(counts[v], (where, moved[v, :-1], moved[v, 1:]), 1)
        allowed = allowed_moves(pitches).numpy()
        counts = counts * allowed
        anywhere = _potentials(counts.sum(axis=1), allowed, pitches, smoothing, pseudo, None)
        if positions == 1:
            return cls(torch.from_numpy(anywhere[1])[:, None], strength, parallels)
        overall = anywhere[0]  # (V, N, N) transition probabilities at any position
        out = np.stack(
            [
                _potentials(counts[:, m], allowed, pitches, smoothing, pseudo, overall)[1]
                for m in range(positions)
            ],
            axis=1,
        )
        return cls(torch.from_numpy(out), strength, parallels)


def _potentials(
    counts: np.ndarray,
    allowed: np.ndarray,
    pitches: int,
    smoothing: float,
    pseudo: float,
    shrink_to: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Transition probabilities and log-potentials from (V, N, N) counts of moves.

    P(s | s') is shrunk with the weight of ``pseudo`` moves towards ``shrink_to`` (else towards
    P(s)): a rare s' says little. The potentials divide by how often each state's *token*
    occurs, which is what the generator predicts (every "goes on" state has the token HOLD).
    """
    marginal = counts.sum(axis=1) + smoothing  # (V, N): how often each state follows any other
    marginal /= marginal.sum(axis=1, keepdims=True)
    if shrink_to is None:
        shrink_to = marginal[:, None, :] * allowed
        shrink_to = shrink_to / shrink_to.sum(axis=2, keepdims=True)
    transition = (counts + pseudo * shrink_to) / (counts.sum(axis=2, keepdims=True) + pseudo)
    token_marginal = marginal.copy()
    token_marginal[:, 1 + pitches :] = marginal[:, 1 + pitches :].sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        potentials = np.log(transition) - np.log(token_marginal)[:, None, :]
    potentials[:, ~allowed] = -np.inf
    return transition, potentials


def _shift(states: np.ndarray, shift: int, pitches: int) -> np.ndarray | None:
    """States transposed by ``shift`` semitones, or None if a pitch leaves the range."""
    if shift == 0:
        return states
    pitch = np.where(states > pitches, states - pitches - 1, states - 1)  # -1 for rest
    sounding = states > 0
    moved = pitch + shift
    if ((moved < 0) | (moved >= pitches))[sounding].any():
        return None
    return np.where(~sounding, 0, np.where(states > pitches, 1 + pitches + moved, 1 + moved))


def allowed_moves(pitches: int) -> torch.Tensor:
    """(2P+1, 2P+1) bool: "pitch p goes on" follows only "p starts" or "p goes on"."""
    size = 2 * pitches + 1
    allowed = torch.ones(size, size, dtype=torch.bool)
    allowed[:, 1 + pitches :] = False
    index = torch.arange(pitches)
    allowed[1 + index, 1 + pitches + index] = True
    allowed[1 + pitches + index, 1 + pitches + index] = True
    return allowed


def last_states(prime: torch.Tensor, pitches: int) -> torch.Tensor:
    """The state of each voice at the prime's last step, (B, V): what ``to_states`` gives there,
    found from the last token that is not a hold instead of walking the whole prime."""
    tokens = prime.cpu().long()
    steps = tokens.shape[-1]
    struck = tokens != HOLD
    last = steps - 1 - struck.flip(-1).long().argmax(-1)  # the last rest or onset
    token = tokens.gather(-1, last[..., None])[..., 0]
    pitch = token - FIRST_PITCH
    sounding = struck.any(-1) & (token >= FIRST_PITCH)
    held = 1 + pitches + pitch
    return torch.where(sounding, torch.where(last == steps - 1, 1 + pitch, held), torch.zeros_like(token))


def sample_lines(
    logits: torch.Tensor,
    start: torch.Tensor,
    prior: LinePrior,
    generator: torch.Generator,
    temperature: float = 1.0,
    strength: float = 1.0,
    parallels: float = 0.0,
) -> torch.Tensor:
    """Draw (B, V, S) tokens from (B, V, K, S) logits under the line prior, each voice's line
    continuing from its ``start`` state (B, V).

    With ``parallels`` > 0 the voices are drawn one after another from the top, and a move
    that makes parallel fifths or octaves (unisons) with a voice already drawn has its
    weight divided by e^parallels; with 0 every voice is drawn at once.
    """
    batch, voices, _, steps = logits.shape
    tokens_of = state_tokens(prior.pitches)
    emission = torch.log_softmax(logits.float() / temperature, dim=2)[:, :, tokens_of, :]  # (B, V, N, S)
    moves = torch.where(torch.isinf(prior.potentials), prior.potentials, strength * prior.potentials)
    size = moves.shape[2]  # moves: (V, M, N, N)
    if parallels <= 0:  # every (window, voice) line is its own chain
        chains = _ffbs(
            emission.reshape(batch * voices, size, steps),
            moves.repeat(batch, 1, 1, 1),
            start.reshape(-1),
            generator,
        )
        return tokens_of[chains.view(batch, voices, steps)]
    pitch_of = _state_pitches(prior.pitches)
    states = torch.empty(batch, voices, steps, dtype=torch.long)
    chunk = 16  # windows at a time
    for v in range(voices):
        for first in range(0, batch, chunk):
            rows = slice(first, first + chunk)
            above = pitch_of[torch.cat([start[rows, :v, None], states[rows, :v]], dim=2)]  # (b, v, S + 1)
            blocks = _parallel_factors(above, prior.pitches, parallels)
            states[rows, v] = _ffbs(
                emission[rows, v],
                moves[v][None],  # shared by the chunk's windows
                start[rows, v],
                generator,
                blocks,
            )
    return tokens_of[states]


def _state_pitches(pitches: int) -> torch.Tensor:
    """The pitch index sounding in each state (-1 for rest)."""
    index = torch.arange(pitches)
    return torch.cat([torch.tensor([-1]), index, index]).long()


def _parallel_factors(above: torch.Tensor, pitches: int, weight: float) -> dict[int, torch.Tensor]:
    """For the steps where a voice ``above`` moves: (b, P, P) factors on moving from pitch x to a
    new pitch y, e^-weight once per upper voice that makes parallel fifths or octaves with it.

    ``above`` is (b, u, S + 1): the upper voices' sounding pitch indices (-1 for silence), from
    the step before the first. A move is parallel when both voices move the same way from a
    fifth (or octave, unison) to the same interval.
    """
    a_all, c_all = above[:, :, :-1], above[:, :, 1:]  # (b, u, S) before and at each step
    moving = (a_all >= 0) & (c_all >= 0) & (a_all != c_all)
    steps = moving.any(dim=1).any(dim=0).nonzero()[:, 0]
    if not len(steps):
        return {}
    a = a_all[:, :, steps, None, None]  # (b, u, m, 1, 1)
    c = c_all[:, :, steps, None, None]
    x = torch.arange(pitches)[:, None]  # this voice before, (P, 1)
    y = torch.arange(pitches)[None, :]  # and its new note, (1, P)
    interval = (a - x) % 12
    parallel = (
        moving[:, :, steps, None, None]
        & (x != y)
        & ((c - a) * (y - x) > 0)
        & ((interval == 0) | (interval == 7))
        & (interval == (c - y) % 12)
    )
    factors = torch.exp(-weight * parallel.sum(dim=1, dtype=torch.float32))  # (b, m, P, P)
    return {int(t): factors[:, i] for i, t in enumerate(steps.tolist())}


def _ffbs(
    emission: torch.Tensor,
    moves: torch.Tensor,
    start: torch.Tensor,
    generator: torch.Generator,
    blocks: dict[int, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Forward filtering, backward sampling of C chains: (C, N, S) log-emissions, log-moves
    (C, M, N, N) into each of M positions of the bar (or (1, M, N, N) shared by all chains),
    start states (C,) -> (C, S) states. ``blocks`` maps a step to (C, P, P) factors on the
    moves from a sounding pitch into a new one at that step.

    Works in probabilities, rescaled at every step, so each step is one batched
    vector-matrix product.
    """
    chains, size, steps = emission.shape
    pitches = (size - 1) // 2
    uniform = torch.rand(chains, steps, 1, generator=generator).numpy().astype(np.float64)
    # the step loops run in NumPy: per step they are a few small operations, where NumPy's
    # overhead per call is a fraction of PyTorch's
    weights = torch.exp(emission - emission.amax(dim=1, keepdim=True)).numpy().astype(np.float64)
    scale = moves.amax(dim=(2, 3), keepdim=True).clamp_min(-1e30)
    shared = torch.exp(moves - scale).numpy().astype(np.float64)  # 0 where a move is impossible
    static = np.broadcast_to(shared, (chains, *shared.shape[1:]))  # (C, M, N, N), not copied
    positions = static.shape[1]  # step t of the continuation is at position t mod M of its bar
    factors = {t: f.numpy().astype(np.float64) for t, f in (blocks or {}).items()}
    row = np.arange(chains)
    cache: dict[int, np.ndarray] = {}

    def transitions(t: int) -> np.ndarray:
        """The (C, N, N) moves into step t."""
        factor = factors.get(t)
        if factor is None:
            return static[:, t % positions]
        if t not in cache:
            changed = static[:, t % positions].copy()
            changed[:, 1 : 1 + pitches, 1 : 1 + pitches] *= factor  # from "x starts" to "y starts"
            changed[:, 1 + pitches :, 1 : 1 + pitches] *= factor  # from "x goes on" to "y starts"
            cache[t] = changed
        return cache[t]

    alpha = weights[..., 0] * transitions(0)[row, start.numpy()]  # (C, N)
    alpha /= alpha.sum(1, keepdims=True)
    alphas = [alpha]
    for t in range(1, steps):
        alpha = np.matmul(alpha[:, None, :], transitions(t))[:, 0] * weights[..., t]
        alpha /= alpha.sum(1, keepdims=True)
        alphas.append(alpha)
    states = np.empty((chains, steps), dtype=np.int64)
    states[:, -1] = _pick(alphas[-1], uniform[:, -1])
    for t in range(steps - 2, -1, -1):
        into = transitions(t + 1)[row, :, states[:, t + 1]]  # (C, N): from every state into the next
        states[:, t] = _pick(alphas[t] * into, uniform[:, t])
    return torch.from_numpy(states)


def _pick(weights: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """One index per row of (C, N) non-negative weights, by inverting the cumulative sum at ``uniform``."""
    cumulative = weights.cumsum(1)
    return np.minimum((cumulative < uniform * cumulative[:, -1:]).sum(1), weights.shape[1] - 1)

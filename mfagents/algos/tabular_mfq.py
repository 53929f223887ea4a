"""Tabular, stateless MF-Q for small lattice games (the Ising stage game, Eq. 32 of the paper's appendix).

Each agent j keeps a table Q_j(abar, a) over its neighbourhood configuration abar (the mean action of
its ``n_neighbours`` neighbours from the last time step, i.e. the one it saw when acting; for Ising:
the number of up neighbours, 0..4) and its action a, and updates it after every step with

    Q_j(abar_j, a_j) <- Q_j(abar_j, a_j) + alpha (r_j - Q_j(abar_j, a_j))        (Eq. 32)

There is no bootstrap: the game is a repeated stage game, so observations are unused (``dones`` only
end the memory of ``revision_rate``).

Which configuration an update is credited to (``mean_action_input``): ``"observed"`` (default, the
paper's "abar from the last time step") credits r_t to the neighbours the agent saw when acting;
``"concurrent"`` credits it to the neighbours' actions of the same step, the ones r_t is computed from
(seen one step later, so each step is applied one ``observe`` call late; at an episode end, where the
next mean action belongs to the next episode, the observed one is used). On Ising the observed
pairing learns E[r | abar_{t-1}, a], which carries the drift of the neighbours (a minority neighbour is
about to join the majority) into Q as a majority bias, a small effective field that orders the
lattice well above T_c; the concurrent pairing learns Q(abar, a) = a (n_up - 2) exactly, so the
Boltzmann policy is heat-bath dynamics (issue 12).
Actions are sampled from the Boltzmann policy pi(a | abar) ~ exp(Q_j(abar, a) / T), whose temperature
decays geometrically (a constant factor per unit of training progress, as the paper's "multiplied by a
decay factor") from ``temperature_start`` to ``temperature_end``. For Ising with h = 0 and exact
Q values, the Boltzmann policy at T is heat-bath dynamics at physical temperature 2 T.

Everything is vectorised over agents: the table is one ``[n_agents, n_configurations, n_actions]``
array. Rows of several environment copies share their agent's table (row r is agent ``r % n_agents``);
their increments for one step are summed.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import gymnasium
import numpy as np
import torch

from mfagents.algos.exploration import boltzmann_probabilities, sample_categorical
from mfagents.algos.learner import build_config
from mfagents.algos.revision import ActionRevision, RevisionSettings
from mfagents.algos.schedules import exponential_schedule
from mfenvs.common.validation import check_choice, check_float, check_int


@dataclass(frozen=True)
class TabularMFQConfig(RevisionSettings):
    """Hyper-parameters of tabular MF-Q."""

    learning_rate: float = 0.1
    """alpha in Eq. 32."""
    temperature_start: float = 2.0
    """Boltzmann temperature at the start of training (in reward units)."""
    temperature_end: float = 0.5
    """Temperature reached after ``temperature_fraction`` of training (0.5 is physical T = 1 for Ising, ordered)."""
    temperature_fraction: float = 0.8
    """Fraction of the training budget over which the temperature decays geometrically."""
    n_neighbours: int = 4
    """Neighbours behind each mean action (4 on the square lattice): abar * n_neighbours must be integer counts."""
    initial_q: float = 0.0
    """Initial value of every table entry."""
    mean_action_input: str = "observed"
    """The neighbour configuration an update is credited to: "observed" (seen when acting, the paper) or
    "concurrent" (the neighbours' actions of the same step, which the reward is computed from)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_float("learning_rate", self.learning_rate, positive=True)
        if self.learning_rate > 1:
            raise ValueError(f"learning_rate must be <= 1, got {self.learning_rate}")
        for name in ("temperature_start", "temperature_end"):
            check_float(name, getattr(self, name), positive=True)
        check_float("temperature_fraction", self.temperature_fraction, non_negative=True)
        check_int("n_neighbours", self.n_neighbours, minimum=1)
        check_float("initial_q", self.initial_q)
        check_choice("mean_action_input", self.mean_action_input, ("observed", "concurrent"))


class TabularMFQ:
    """Per-agent Q tables over (neighbour configuration, action); see the module docstring.

    ``observation_space`` and ``device`` are accepted for the registry's common signature and unused:
    the learner reads only the mean actions, and its table lives in NumPy.
    """

    name = "tabular_mfq"
    uses_mean_action = True

    def __init__(
        self,
        config: TabularMFQConfig,
        observation_space: gymnasium.spaces.Space,
        n_actions: int,
        n_agents: int,
        seed: int,
        device: str | torch.device = "cpu",
    ):
        self.config = config
        self.n_actions = check_int("n_actions", n_actions, minimum=2)
        self.n_agents = check_int("n_agents", n_agents, minimum=1)
        self.rng = np.random.default_rng(seed)
        # a configuration is the neighbour counts of actions 1..n_actions-1 (0..n_neighbours each), in mixed radix
        self._radix = (config.n_neighbours + 1) ** np.arange(n_actions - 1)
        n_configurations = (config.n_neighbours + 1) ** (n_actions - 1)
        self.q_table = np.full((n_agents, n_configurations, n_actions), config.initial_q, dtype=np.float64)
        self.revision = ActionRevision.from_config(config, n_actions)
        self.progress = 0.0
        self.updates = 0
        self._pending: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._deferred: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        """``mean_action_input="concurrent"``: the last step (rows, observed configurations, actions, rewards) awaiting its neighbours' actions."""

    def set_progress(self, fraction: float) -> None:
        """Fraction (0..1, clipped) of the training budget spent; drives the temperature."""
        if not math.isfinite(fraction):
            raise ValueError(f"progress fraction must be finite, got {fraction}")
        self.progress = min(max(float(fraction), 0.0), 1.0)

    @property
    def temperature(self) -> float:
        c = self.config
        return exponential_schedule(c.temperature_start, c.temperature_end, c.temperature_fraction, self.progress)

    def configuration_index(self, mean_actions: np.ndarray) -> np.ndarray:
        """``[n, n_actions]`` mean actions -> ``[n]`` table row: the neighbour counts of actions 1, 2, ... in base
        ``n_neighbours + 1`` (for Ising: the number of up neighbours, 0..4).

        Raises:
            ValueError: wrong shape, or a mean action that is not a count over ``n_neighbours`` neighbours.
        """
        mean_actions = np.asarray(mean_actions, dtype=np.float64)
        if mean_actions.ndim != 2 or mean_actions.shape[1] != self.n_actions:
            raise ValueError(f"mean_actions has shape {mean_actions.shape}, expected [n, {self.n_actions}]")
        scaled = mean_actions[:, 1:] * self.config.n_neighbours
        counts = np.rint(scaled)
        if not np.allclose(scaled, counts, atol=1e-4) or (counts < 0).any() or (counts > self.config.n_neighbours).any():
            raise ValueError(
                f"tabular MF-Q needs mean actions over exactly n_neighbours={self.config.n_neighbours} neighbours "
                "(abar * n_neighbours must be whole counts)"
            )
        return counts.astype(np.int64) @ self._radix

    def _agents(self, n_rows: int) -> np.ndarray:
        if n_rows % self.n_agents:
            raise ValueError(f"{n_rows} rows is not a whole number of copies of the group's {self.n_agents} agents")
        return np.arange(n_rows) % self.n_agents

    def act(self, observations: np.ndarray, mean_actions: np.ndarray, explore: bool = True) -> np.ndarray:
        """``[n]`` int64 actions: Boltzmann samples at the scheduled temperature, or greedy (ties -> action 0).

        With ``revision_rate < 1`` only the revising rows take these actions; the others repeat theirs.
        """
        configurations = self.configuration_index(mean_actions)
        q = self.q_table[self._agents(len(configurations)), configurations]
        revising = self.revision.revising(len(configurations), self.rng)
        if not explore:
            actions = q.argmax(axis=1).astype(np.int64)
        else:
            actions = sample_categorical(boltzmann_probabilities(q, self.temperature), self.rng)
        return self.revision.apply(revising, actions)

    def end_episodes(self, dones: np.ndarray) -> None:
        """Rows whose episode ended act freely at their next step (``observe`` does this itself)."""
        self.revision.end_episodes(dones)

    def observe(
        self,
        observations: np.ndarray,
        actions: np.ndarray,
        mean_actions: np.ndarray | None,
        rewards: np.ndarray,
        dones: np.ndarray,
        active: np.ndarray,
    ) -> None:
        """Queue one step for ``update()``: the configuration each row acted on, its action, reward and activity."""
        configurations = self.configuration_index(mean_actions)
        n = len(configurations)
        actions = np.asarray(actions, dtype=np.int64)
        rewards = np.asarray(rewards, dtype=np.float64)
        active = np.asarray(active, dtype=bool)
        for name, array in (("actions", actions), ("rewards", rewards), ("active", active)):
            if array.shape != (n,):
                raise ValueError(f"{name} has shape {array.shape}, expected [{n}]")
        if self.config.mean_action_input == "concurrent":
            self._credit_deferred(configurations)
            dones = np.asarray(dones, dtype=bool)
            ended = active & dones  # the next mean action belongs to the next episode: credit the observed one now
            self._queue(np.flatnonzero(ended), configurations, actions, rewards)
            self._deferred = (np.flatnonzero(active & ~dones), configurations, actions, rewards)
        else:
            self._queue(np.flatnonzero(active), configurations, actions, rewards)
        self.end_episodes(dones)

    def _queue(self, rows: np.ndarray, configurations: np.ndarray, actions: np.ndarray, rewards: np.ndarray) -> None:
        self._pending.append((self._agents(len(configurations))[rows], configurations[rows], actions[rows], rewards[rows]))

    def _credit_deferred(self, concurrent: np.ndarray) -> None:
        """Queue the deferred step with ``concurrent`` (the configurations seen now, made by its joint action)."""
        if self._deferred is None:
            return
        rows, observed, actions, rewards = self._deferred
        self._deferred = None
        # a changed number of rows is another set of rows: fall back to the observed configurations
        self._queue(rows, concurrent if len(concurrent) == len(observed) else observed, actions, rewards)

    def update(self) -> dict[str, float]:
        """Apply Eq. 32 to every queued step; ``{}`` when nothing was queued."""
        if not self._pending:
            return {}
        errors = []
        for agents, configurations, actions, rewards in self._pending:
            error = rewards - self.q_table[agents, configurations, actions]
            np.add.at(self.q_table, (agents, configurations, actions), self.config.learning_rate * error)
            errors.append(np.abs(error))
        self._pending.clear()
        self.updates += 1
        all_errors = np.concatenate(errors)
        return {
            "losses/td_error": float(all_errors.mean()) if len(all_errors) else 0.0,
            "charts/temperature": self.temperature,
        }

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The Q table and counters."""
        return {
            "q_table": torch.from_numpy(self.q_table.copy()),
            "counters.updates": torch.tensor(self.updates, dtype=torch.int64),
            "counters.progress": torch.tensor(self.progress, dtype=torch.float64),
        }

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Restore ``state_dict()``; KeyError / ValueError name a missing or misshapen entry."""
        for key in ("q_table", "counters.updates", "counters.progress"):
            if key not in state:
                raise KeyError(f"state is missing {key!r}")
        if tuple(state["q_table"].shape) != self.q_table.shape:
            raise ValueError(f"state entry 'q_table' has shape {tuple(state['q_table'].shape)}, expected {self.q_table.shape}")
        self.q_table = state["q_table"].detach().cpu().numpy().astype(np.float64).copy()
        self.updates = int(state["counters.updates"])
        self.progress = float(state["counters.progress"])

    def policy_state_dict(self) -> dict[str, torch.Tensor]:
        """The Q table."""
        return {"q_table": torch.from_numpy(self.q_table.copy())}

    def load_policy_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Load the Q table."""
        if "q_table" not in state:
            raise KeyError("state is missing 'q_table'")
        table = state["q_table"].double().numpy()
        if table.shape != self.q_table.shape:
            raise ValueError(f"state entry 'q_table' has shape {table.shape}, expected {self.q_table.shape}")
        self.q_table = table.copy()

    def config_dict(self) -> dict[str, Any]:
        return asdict(self.config)


def make_tabular_mfq(
    observation_space: gymnasium.spaces.Space, n_actions: int, n_agents: int, seed: int, device: str = "cpu", **overrides: Any
) -> TabularMFQ:
    """Tabular MF-Q with ``TabularMFQConfig`` defaults plus ``overrides``."""
    return TabularMFQ(build_config(TabularMFQConfig, overrides), observation_space, n_actions, n_agents, seed, device)

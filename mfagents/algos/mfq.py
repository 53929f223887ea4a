"""Mean Field Q-learning (MF-Q, Algorithm 1 of Yang et al. 2018) and independent Q-learning (IL).

One Q network Q(s, a, abar) is shared by every agent of the group. Acting samples the Boltzmann
policy pi(a | s, abar) ~ exp(Q / T) at the scheduled temperature T (the paper's Eq. 12, beta = 1 / T;
the seed's exp(-beta Q) is a sign convention). Learning minimises (y - Q(s, a, abar))^2 over replayed
transitions with the mean-field target

    y = r + gamma * (1 - done) * v_MF(s'),   v_MF(s') = sum_a pi_T(a | s', abar') Q_target(s', a, abar'),

where abar' is the mean action the agent saw at t + 1 and pi_T is the Boltzmann policy of the target
network (Eq. 10). The target network follows by soft updates (tau per gradient step); Adam optimises.

The mean action paired with (s_t, a_t) is, by default, the one the agent saw when acting (so the
network is queried the same way when it acts and when it learns); ``mean_action_input="concurrent"``
pairs the mean action of the joint action that produced r_t instead, a literal reading of Algorithm 1.
Asynchronous revision (``revision_rate`` < 1, see ``mfagents.algos.revision.ActionRevision``): each agent acts
on its policy with that probability per step and otherwise repeats its previous action, so that a shared
near-greedy network does not move every agent at once; ``revision_initial_action``,
``revision_rate_start`` and ``revision_anneal_steps`` shape it within each episode.

Variants (config): ``exploration="epsilon"`` (epsilon-greedy acting, as the paper's Gaussian Squeeze
experiments), ``backup="max"`` (y = r + gamma max_a Q_target, the 2018 code's departure from the
paper), ``loss="huber"``. IL is this class with ``use_mean_action=False``: the mean-action branch is
removed and the mean actions are ignored.

The temperature is in the units of Q (scaled rewards), so it is set per environment. Dead agents
(absorbed rows) are never sampled and their last transition does not bootstrap; a truncated episode
is treated as terminal (``done`` cuts the bootstrap), as in the paper's code. Rewards are multiplied by
``reward_scale`` before they are stored. What was tried on which game, and why the defaults are what
they are: the algorithms page of the documentation (``docs/algorithms.md``) and BENCHMARKS.md.
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass
from typing import Any

import gymnasium
import numpy as np
import torch
import torch.nn.functional as F

from mfagents.algos.buffers import Batch, ReplayBuffer, ReplayRatio
from mfagents.algos.exploration import (
    boltzmann_probabilities,
    epsilon_greedy,
    sample_categorical,
)
from mfagents.algos.nets import (
    adam,
    build_network,
    network_inputs,
    observation_layout,
    soft_update,
)
from mfagents.algos.precision import PRECISIONS
from mfagents.algos.revision import ActionRevision, RevisionSettings
from mfagents.algos.schedules import linear_schedule
from mfagents.common.checkpoint import (
    load_module_tensors,
    load_optimizer_tensors,
    module_tensors,
    optimizer_tensors,
)
from mfenvs.common.validation import check_choice, check_float, check_int


@dataclass(frozen=True)
class MFQConfig(RevisionSettings):
    """Hyper-parameters of MF-Q / IL (defaults: the paper's Battle setting where it gives one)."""

    use_mean_action: bool = True
    """Feed the mean action to the Q network (MF-Q); False is independent Q-learning (IL)."""
    gamma: float = 0.95
    """Discount factor (paper, Battle: 0.95)."""
    learning_rate: float = 1e-4
    """Adam learning rate (paper, Battle: 1e-4)."""
    learning_rate_end: float | None = None
    """If set, the learning rate decays linearly from ``learning_rate`` to this over the training budget."""
    batch_size: int = 128
    """Transitions per gradient step (paper, Battle: 128)."""
    buffer_size: int = 80_000
    """Replay capacity in transitions (the 2018 code's 80,000; the paper says 5e5)."""
    learning_starts: int = 1_000
    """Sampleable transitions in the buffer before the first gradient step."""
    replay_ratio: float = 1.0
    """Sampled transitions per collected transition (sets the gradient steps per ``update()``)."""
    tau: float = 0.005
    """Soft target update rate per gradient step: target <- tau * online + (1 - tau) * target."""
    loss: str = "mse"
    """"mse" (the paper's squared error) or "huber" (smooth L1, delta 1)."""
    max_grad_norm: float = 10.0
    """Gradient-norm clip per step (0 disables)."""
    exploration: str = "boltzmann"
    """Acting policy while exploring: "boltzmann" (sampled, the paper's MF-Q) or "epsilon" (epsilon-greedy)."""
    backup: str = "boltzmann"
    """Target value: "boltzmann" (v_MF, Eq. 10) or "max" (max_a Q_target, the 2018 code's variant)."""
    temperature_start: float = 1.0
    """Boltzmann temperature T = 1 / beta at the start of training."""
    temperature_end: float = 0.1
    """Temperature reached after ``temperature_fraction`` of training and kept afterwards."""
    temperature_fraction: float = 0.8
    """Fraction of the training budget over which T decays linearly."""
    epsilon_start: float = 1.0
    """Epsilon at the start (``exploration="epsilon"``; paper, Battle: 1.0)."""
    epsilon_end: float = 0.05
    """Final epsilon (paper, Battle: 0.05)."""
    epsilon_fraction: float = 0.8
    """Fraction of the training budget over which epsilon decays linearly."""
    mean_action_input: str = "observed"
    """abar paired with (s_t, a_t) in the loss: "observed" (the mean action the agent saw when acting at t,
    as the policy uses it) or "concurrent" (a literal reading of Algorithm 1, which stores the mean action of
    the joint action that produced r_t: the one observed at t + 1; at an episode end, where the vector envs
    lose it, the observed one is used)."""
    reward_scale: float = 1.0
    """Rewards are multiplied by this before they are stored (Q values are in scaled units)."""
    hidden: tuple[int, ...] = (128, 64)
    """Q-network head sizes after the encoder / mean-action / id concatenation (paper, Battle: 128, 64)."""
    encoder_hidden: tuple[int, ...] = (64, 64)
    """MLP encoder sizes for 1-D observations (Battle uses the paper's conv encoder instead)."""
    view_channels: int | None = None
    """Leading view channels of an HWC observation; None infers Battle's layout (7 with minimap, 5 without)."""
    agent_id_embedding: bool = False
    """Add a learned embedding of the agent index (row % n_agents) to the Q-network input."""
    obs_dtype: str = "float32"
    """Replay storage of observations: "float32" or "float16"."""
    zero_init_head: bool = False
    """Start the Q network's output layer at zero: every Q value starts tied at 0, so greedy acting (and
    the greedy part of epsilon-greedy) starts at action 0 (argmax takes the first maximum)."""
    greedy_network: str = "online"
    """The network greedy play reads (``explore=False``: evaluation, the panel, ``mfzoo eval / arena / watch``):
    "online", or "target", the soft-updated (Polyak-averaged) target network, which moves less between
    evaluations (BENCHMARKS.md, "Battle recipe search: what it found"). Exploring play always reads the online one."""
    precision: str = "auto"
    """Compute precision of the convolutional view encoder: "auto" (bfloat16 on CPUs with native bf16 units,
    else float32), "float32" or "bfloat16" (``mfagents.algos.precision``); MLP encoders, heads and weights stay float32."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_float("gamma", self.gamma, non_negative=True)
        if self.gamma > 1:
            raise ValueError(f"gamma must be <= 1, got {self.gamma}")
        for name in ("learning_rate", "replay_ratio", "tau", "temperature_start", "temperature_end"):
            check_float(name, getattr(self, name), positive=True)
        if self.learning_rate_end is not None:
            check_float("learning_rate_end", self.learning_rate_end, positive=True)
        if self.tau > 1:
            raise ValueError(f"tau must be <= 1, got {self.tau}")
        for name in ("max_grad_norm", "epsilon_start", "epsilon_end", "epsilon_fraction", "temperature_fraction"):
            check_float(name, getattr(self, name), non_negative=True)
        check_float("reward_scale", self.reward_scale)
        check_int("batch_size", self.batch_size, minimum=1)
        check_int("buffer_size", self.buffer_size, minimum=2)
        check_int("learning_starts", self.learning_starts, minimum=0)
        check_choice("loss", self.loss, ("mse", "huber"))
        check_choice("exploration", self.exploration, ("boltzmann", "epsilon"))
        check_choice("backup", self.backup, ("boltzmann", "max"))
        check_choice("greedy_network", self.greedy_network, ("online", "target"))
        check_choice("mean_action_input", self.mean_action_input, ("concurrent", "observed"))
        check_choice("obs_dtype", self.obs_dtype, ("float32", "float16"))
        check_choice("precision", self.precision, PRECISIONS)


def mean_field_value(q_values: torch.Tensor, temperature: float) -> torch.Tensor:
    """v_MF = sum_a softmax(Q / T)_a Q_a per row of ``[B, n_actions]`` (Eq. 10 with the Boltzmann policy of Eq. 12)."""
    return (torch.softmax(q_values / temperature, dim=1) * q_values).sum(dim=1)


class MFQ:
    """MF-Q / IL learner for one group of agents (see the module docstring and ``mfagents.algos.Learner``)."""

    def __init__(
        self,
        config: MFQConfig,
        observation_space: gymnasium.spaces.Space,
        n_actions: int,
        n_agents: int,
        seed: int,
        device: str | torch.device = "cpu",
    ):
        self.config = config
        self.name = "mfq" if config.use_mean_action else "il"
        self.uses_mean_action = config.use_mean_action
        self.n_actions = check_int("n_actions", n_actions, minimum=2)
        self.n_agents = check_int("n_agents", n_agents, minimum=1)
        self.device = torch.device(device)
        self.rng = np.random.default_rng(seed)
        init_generator = torch.Generator().manual_seed(int(seed))
        self.layout = observation_layout(observation_space, config.view_channels)
        self.q = build_network(
            self.layout,
            n_actions,
            config.use_mean_action,
            init_generator,
            hidden=config.hidden,
            encoder_hidden=config.encoder_hidden,
            n_agent_ids=n_agents if config.agent_id_embedding else 0,
            device=self.device,
            zero_output=config.zero_init_head,
            precision=config.precision,
        )
        self.q_target = copy.deepcopy(self.q).requires_grad_(False)
        self.optimizer = adam(self.q.parameters(), config.learning_rate, self.device)
        self.buffer = ReplayBuffer(config.buffer_size, self.layout.packed_size, n_actions, config.obs_dtype, self.device)
        self.replay_ratio = ReplayRatio(config.replay_ratio, config.batch_size, config.learning_starts)
        self.revision = ActionRevision.from_config(config, n_actions)
        self.progress = 0.0
        self.gradient_steps = 0
        self._new_transitions = 0

    # -- schedules -------------------------------------------------------------------------------------
    def set_progress(self, fraction: float) -> None:
        """Fraction (0..1, clipped) of the training budget spent; drives the temperature and epsilon."""
        if not math.isfinite(fraction):
            raise ValueError(f"progress fraction must be finite, got {fraction}")
        self.progress = min(max(float(fraction), 0.0), 1.0)
        if self.config.learning_rate_end is not None:
            rate = linear_schedule(self.config.learning_rate, self.config.learning_rate_end, 1.0, self.progress)
            for group in self.optimizer.param_groups:
                group["lr"] = rate

    @property
    def temperature(self) -> float:
        c = self.config
        return linear_schedule(c.temperature_start, c.temperature_end, c.temperature_fraction, self.progress)

    @property
    def epsilon(self) -> float:
        c = self.config
        return linear_schedule(c.epsilon_start, c.epsilon_end, c.epsilon_fraction, self.progress)

    # -- acting ----------------------------------------------------------------------------------------
    def q_values(self, observations: np.ndarray, mean_actions: np.ndarray | None, target: bool = False) -> np.ndarray:
        """Q(s, ., abar) of the online network (of the target network if ``target``) for ``n`` rows ->
        ``[n, n_actions]`` (no gradient)."""
        inputs = network_inputs(self.layout, observations, mean_actions, self.n_actions, self.device, self.uses_mean_action)
        with torch.inference_mode():
            return (self.q_target if target else self.q)(*inputs).cpu().numpy()

    def act(self, observations: np.ndarray, mean_actions: np.ndarray | None, explore: bool = True) -> np.ndarray:
        """``[n]`` int64 actions: Boltzmann samples (or epsilon-greedy) when exploring, else greedy.

        With ``revision_rate < 1`` only the revising rows take these actions; the others repeat theirs.
        """
        revising = self.revision.revising(len(observations), self.rng)
        q = self.q_values(observations, mean_actions, target=not explore and self.config.greedy_network == "target")
        if not explore:
            actions = q.argmax(axis=1).astype(np.int64)
        elif self.config.exploration == "epsilon":
            actions = epsilon_greedy(q, self.epsilon, self.rng)
        else:
            actions = sample_categorical(boltzmann_probabilities(q, self.temperature), self.rng)
        return self.revision.apply(revising, actions)

    def end_episodes(self, dones: np.ndarray) -> None:
        """Rows whose episode ended act freely at their next step (``observe`` does this itself)."""
        self.revision.end_episodes(dones)

    # -- learning --------------------------------------------------------------------------------------
    def observe(
        self,
        observations: np.ndarray,
        actions: np.ndarray,
        mean_actions: np.ndarray | None,
        rewards: np.ndarray,
        dones: np.ndarray,
        active: np.ndarray,
    ) -> None:
        """Store one environment step of the ``n`` rows (inactive rows are stored but never sampled)."""
        scaled = np.asarray(rewards, dtype=np.float32) * self.config.reward_scale
        packed = self.layout.pack(observations)
        self._new_transitions += self.buffer.add(packed, actions, mean_actions, scaled, dones, active)
        self.end_episodes(dones)

    def td_target(self, batch: Batch) -> torch.Tensor:
        """y = r + gamma (1 - done) v(s'), v = v_MF at the current temperature, or max_a Q_target (``backup="max"``)."""
        with torch.no_grad():
            next_q = self.q_target(batch.next_obs, batch.next_mean_actions, batch.rows)
            if self.config.backup == "max":
                next_value = next_q.max(dim=1).values
            else:
                next_value = mean_field_value(next_q, self.temperature)
            return batch.rewards + self.config.gamma * (1.0 - batch.dones) * next_value

    def input_mean_actions(self, batch: Batch) -> torch.Tensor:
        """The abar paired with (s_t, a_t) in the loss (see ``MFQConfig.mean_action_input``)."""
        if self.config.mean_action_input == "observed":
            return batch.mean_actions
        concurrent = batch.dones[:, None] == 0  # at an episode end abar_{t+1} belongs to the next episode
        return torch.where(concurrent, batch.next_mean_actions, batch.mean_actions)

    def update(self) -> dict[str, float]:
        """Take the gradient steps due (``replay_ratio``); metrics, or ``{}`` when none was due."""
        due = self.replay_ratio.steps_due(self._new_transitions, len(self.buffer))
        self._new_transitions = 0
        if due == 0:
            return {}
        losses, q_means = [], []
        for _ in range(due):
            batch = self.buffer.sample(self.config.batch_size, self.rng)
            target = self.td_target(batch)
            q = self.q(batch.obs, self.input_mean_actions(batch), batch.rows)
            q_taken = q.gather(1, batch.actions[:, None]).squeeze(1)
            if self.config.loss == "huber":
                loss = F.smooth_l1_loss(q_taken, target)
            else:
                loss = F.mse_loss(q_taken, target)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if self.config.max_grad_norm > 0:
                torch.nn.utils.clip_grad_norm_(self.q.parameters(), self.config.max_grad_norm)
            self.optimizer.step()
            soft_update(self.q_target, self.q, self.config.tau)
            self.gradient_steps += 1
            losses.append(loss.item())
            q_means.append(q_taken.mean().item())
        exploration = "epsilon" if self.config.exploration == "epsilon" else "temperature"
        return {
            "losses/q": float(np.mean(losses)),
            "losses/q_values": float(np.mean(q_means)),
            f"charts/{exploration}": getattr(self, exploration),
            "charts/gradient_steps": float(self.gradient_steps),
        }

    # -- persistence -----------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, torch.Tensor]:
        """Networks, target network, Adam state and counters (the replay buffer is not saved)."""
        return {
            **module_tensors("q", self.q),
            **module_tensors("q_target", self.q_target),
            **optimizer_tensors("optimizer", self.optimizer),
            "counters.gradient_steps": torch.tensor(self.gradient_steps, dtype=torch.int64),
            "counters.progress": torch.tensor(self.progress, dtype=torch.float64),
            "counters.replay_credit": torch.tensor(self.replay_ratio.credit, dtype=torch.float64),
        }

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Restore ``state_dict()``; KeyError / ValueError name a missing or misshapen entry."""
        for key in ("counters.gradient_steps", "counters.progress", "counters.replay_credit"):
            if key not in state:
                raise KeyError(f"state is missing {key!r}")
        load_module_tensors("q", self.q, state)
        load_module_tensors("q_target", self.q_target, state)
        load_optimizer_tensors("optimizer", self.optimizer, state)
        self.gradient_steps = int(state["counters.gradient_steps"])
        self.progress = float(state["counters.progress"])
        self.replay_ratio.credit = float(state["counters.replay_credit"])

    def policy_state_dict(self) -> dict[str, torch.Tensor]:
        """The Q network (greedy acting is argmax_a Q(s, a, abar))."""
        return module_tensors("q", self.q)

    def load_policy_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Load the Q network (float16 entries are widened) and copy it into the target network."""
        load_module_tensors("q", self.q, {key: value.float() for key, value in state.items()})
        self.q_target.load_state_dict(self.q.state_dict())

    def config_dict(self) -> dict[str, Any]:
        return asdict(self.config)

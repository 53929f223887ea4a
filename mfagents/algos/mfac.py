"""Mean Field Actor-Critic (MF-AC, Algorithm 2 of Yang et al. 2018) and the advantage actor-critic baseline (AC).

One critic Q(s, a, abar) is shared by every agent of the group; the actor pi(a | s) = softmax(logits(s) /
actor_temperature) is shared too (``actor_sharing="shared"``, Battle) or kept separate per agent
(``"separate"``, the paper's Gaussian Squeeze: a per-agent logit table, ``nets.SeparateActors``). Actor and
critic each have a target network and learn from replay, as Algorithm 2 does:

* critic: minimise (y - Q(s, a, abar))^2 with y = r + gamma (1 - done) v_MF(s'),
  v_MF(s') = sum_a pi_target(a | s') Q_target(s', a, abar'), abar' the mean action seen at t + 1;
* actor: ascend E[grad log pi(a | s) A(s, a)] with the advantage A = Q(s, a, abar) - sum_b pi(b | s) Q(s, b, abar)
  (the critic's expectation under the current actor is the baseline), plus ``entropy_coef`` times the
  policy entropy. The actions come from the replay buffer, so the gradient is the on-policy estimator
  applied to slightly older actions (no importance weights), as the 2018 code did. With
  ``actor_update="all_actions"`` the actor ascends sum_b pi(b | s) A(s, b) instead (every action, from the
  critic), and the entropy weight becomes a temperature in Q units: the optimum is pi ~ exp(Q / entropy_coef);
* total loss = actor loss + ``value_coef`` * critic loss - ``entropy_coef`` * entropy, one Adam step over
  both networks (the paper's Battle coefficients: value 0.1, entropy 0.08, softmax temperature 0.1), the
  actor at ``actor_learning_rate`` when given (the paper's Squeeze: critic 1e-3, actors 1e-4).
  The networks share no parameters, so under Adam ``value_coef`` acts only through Adam's epsilon and
  the joint gradient-norm clip; it is kept for parity with the paper's setting;
* targets follow by soft updates (``critic_tau``, ``actor_tau``).

The 2018 code used a state-value critic V(s, abar); the paper's critic Q(s, a, abar) is used here.
AC is this class with ``use_mean_action=False`` (the critic is Q(s, a)). Truncation is treated as
terminal (as the paper's code). Rewards are multiplied by ``reward_scale`` before they are stored.
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
from mfagents.algos.exploration import sample_categorical
from mfagents.algos.nets import (
    SeparateActors,
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
class MFACConfig(RevisionSettings):
    """Hyper-parameters of MF-AC / AC (defaults: the paper's Battle setting where it gives one)."""

    use_mean_action: bool = True
    """Feed the mean action to the critic (MF-AC); False is the AC baseline."""
    gamma: float = 0.95
    """Discount factor."""
    learning_rate: float = 1e-4
    """Adam learning rate for actor and critic (paper, Battle: 1e-4)."""
    learning_rate_end: float | None = None
    """If set, the learning rate decays linearly from ``learning_rate`` to this over the training budget
    (the actor's by the same factor)."""
    actor_learning_rate: float | None = None
    """Adam learning rate of the actor(s); None: ``learning_rate`` (paper, Squeeze: 1e-4 actors, 1e-3 critic)."""
    actor_sharing: str = "shared"
    """"shared": one actor network for every agent (Battle). "separate": one actor per agent, a logit table
    ``[n_agents, n_actions]`` that ignores the observation (stateless repeated games: the Gaussian Squeeze;
    the paper: "Actors are kept separate")."""
    actor_init_std: float = 0.0
    """Separate actors: initial logits drawn N(0, std) per agent and action (separate networks start apart)."""
    actor_init_action: int = 0
    """Separate actors: the action whose initial logit gets ``actor_init_bonus``."""
    actor_init_bonus: float = 0.0
    """Separate actors: added to the initial logit of ``actor_init_action`` (the Squeeze: start near "send 0",
    below the load where G underflows to 0 and no action has a gradient)."""
    batch_size: int = 128
    """Transitions per gradient step."""
    buffer_size: int = 80_000
    """Replay capacity in transitions."""
    learning_starts: int = 1_000
    """Sampleable transitions in the buffer before the first gradient step."""
    replay_ratio: float = 1.0
    """Sampled transitions per collected transition (sets the gradient steps per ``update()``)."""
    critic_tau: float = 0.005
    """Soft update rate of the target critic per gradient step (tau_phi)."""
    actor_tau: float = 0.005
    """Soft update rate of the target actor per gradient step (tau_theta)."""
    actor_temperature: float = 0.1
    """Softmax temperature of the actor: pi = softmax(logits / T) (paper, Battle: 0.1)."""
    actor_temperature_end: float | None = None
    """If set, the temperature moves linearly to this over ``entropy_fraction`` of the budget: sampled play then
    approaches the greedy play that evaluation scores (the Squeeze's separate actors settle on pure actions)."""
    entropy_coef: float = 0.08
    """Weight of the policy entropy bonus (paper, Battle: 0.08). With ``actor_update="all_actions"`` the actor's
    optimum is pi proportional to exp(Q / entropy_coef): the weight is a Boltzmann temperature in units of Q."""
    entropy_coef_end: float | None = None
    """If set, the entropy weight moves linearly to this over ``entropy_fraction`` of the budget (as MF-Q's temperature)."""
    entropy_fraction: float = 0.8
    """Fraction of the training budget over which the entropy weight and the actor temperature move to their ends."""
    normalize_advantage: bool = False
    """Standardise the advantages of each minibatch (zero mean, unit std) so the actor step and the
    entropy weight do not depend on the reward scale (SB3's option of the same name)."""
    actor_update: str = "sampled"
    """Actor gradient: "sampled" (the paper's: grad log pi(a | s) A(s, a) at the replayed action a) or
    "all_actions" (the expectation over every action, grad sum_b pi(b | s) A(s, b), from the critic's Q of
    every action: the replayed action is not used, so actions that pi did not take (repeated actions under
    revision, older policies) cannot bias it, and log pi of a rare replayed action cannot blow up)."""
    value_coef: float = 0.1
    """Weight of the critic loss in the total loss (paper, Battle: 0.1)."""
    loss: str = "mse"
    """Critic loss: "mse" (the paper's squared error) or "huber"."""
    max_grad_norm: float = 10.0
    """Gradient-norm clip over both networks per step (0 disables)."""
    mean_action_input: str = "observed"
    """abar paired with (s_t, a_t): "observed" (seen when acting) or "concurrent" (that of the joint action; see MFQConfig)."""
    reward_scale: float = 1.0
    """Rewards are multiplied by this before they are stored."""
    hidden: tuple[int, ...] = (128, 64)
    """Head sizes of actor and critic after the encoder concatenation."""
    encoder_hidden: tuple[int, ...] = (64, 64)
    """MLP encoder sizes for 1-D observations (Battle uses the paper's conv encoder instead)."""
    view_channels: int | None = None
    """Leading view channels of an HWC observation; None infers Battle's layout."""
    agent_id_embedding: bool = False
    """Add a learned embedding of the agent index (row % n_agents) to both networks' input."""
    obs_dtype: str = "float32"
    """Replay storage of observations: "float32" or "float16"."""
    zero_init_head: bool = False
    """Start the output layers of actor and critic at zero (a uniform actor, every Q value 0)."""
    precision: str = "auto"
    """Compute precision of the convolutional view encoders (see ``MFQConfig.precision``)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_float("gamma", self.gamma, non_negative=True)
        if self.gamma > 1:
            raise ValueError(f"gamma must be <= 1, got {self.gamma}")
        for name in ("learning_rate", "replay_ratio", "critic_tau", "actor_tau", "actor_temperature"):
            check_float(name, getattr(self, name), positive=True)
        for name in ("critic_tau", "actor_tau"):
            if getattr(self, name) > 1:
                raise ValueError(f"{name} must be <= 1, got {getattr(self, name)}")
        for name in ("entropy_coef", "value_coef", "max_grad_norm", "entropy_fraction", "actor_init_std"):
            check_float(name, getattr(self, name), non_negative=True)
        if self.learning_rate_end is not None:
            check_float("learning_rate_end", self.learning_rate_end, positive=True)
        if self.actor_temperature_end is not None:
            check_float("actor_temperature_end", self.actor_temperature_end, positive=True)
        if self.actor_learning_rate is not None:
            check_float("actor_learning_rate", self.actor_learning_rate, positive=True)
        check_float("actor_init_bonus", self.actor_init_bonus)
        check_int("actor_init_action", self.actor_init_action, minimum=0)
        check_choice("actor_sharing", self.actor_sharing, ("shared", "separate"))
        if self.entropy_coef_end is not None:
            check_float("entropy_coef_end", self.entropy_coef_end, non_negative=True)
        check_float("reward_scale", self.reward_scale)
        check_int("batch_size", self.batch_size, minimum=1)
        check_int("buffer_size", self.buffer_size, minimum=2)
        check_int("learning_starts", self.learning_starts, minimum=0)
        check_choice("loss", self.loss, ("mse", "huber"))
        check_choice("actor_update", self.actor_update, ("sampled", "all_actions"))
        check_choice("mean_action_input", self.mean_action_input, ("concurrent", "observed"))
        check_choice("obs_dtype", self.obs_dtype, ("float32", "float16"))
        check_choice("precision", self.precision, PRECISIONS)


class MFAC:
    """MF-AC / AC learner for one group of agents (see the module docstring and ``mfagents.algos.Learner``)."""

    def __init__(
        self,
        config: MFACConfig,
        observation_space: gymnasium.spaces.Space,
        n_actions: int,
        n_agents: int,
        seed: int,
        device: str | torch.device = "cpu",
    ):
        self.config = config
        self.name = "mfac" if config.use_mean_action else "ac"
        self.uses_mean_action = config.use_mean_action
        self.n_actions = check_int("n_actions", n_actions, minimum=2)
        self.n_agents = check_int("n_agents", n_agents, minimum=1)
        self.device = torch.device(device)
        self.rng = np.random.default_rng(seed)
        init_generator = torch.Generator().manual_seed(int(seed))
        self.layout = observation_layout(observation_space, config.view_channels)
        sizes = dict(
            hidden=config.hidden,
            encoder_hidden=config.encoder_hidden,
            n_agent_ids=n_agents if config.agent_id_embedding else 0,
            device=self.device,
            zero_output=config.zero_init_head,
            precision=config.precision,
        )
        if config.actor_sharing == "separate":
            if config.actor_init_action >= n_actions:
                raise ValueError(f"actor_init_action must be < n_actions = {n_actions}, got {config.actor_init_action}")
            self.actor: torch.nn.Module = SeparateActors(
                n_agents, n_actions, init_generator, config.actor_init_std, config.actor_init_action, config.actor_init_bonus
            ).to(self.device)
        else:
            self.actor = build_network(self.layout, n_actions, False, init_generator, **sizes)
        self.critic = build_network(self.layout, n_actions, config.use_mean_action, init_generator, **sizes)
        self.actor_target = copy.deepcopy(self.actor).requires_grad_(False)
        self.critic_target = copy.deepcopy(self.critic).requires_grad_(False)
        actor_rate = config.actor_learning_rate if config.actor_learning_rate is not None else config.learning_rate
        self.base_rates = (actor_rate, config.learning_rate)
        self.optimizer = adam(
            [{"params": self.actor.parameters(), "lr": actor_rate}, {"params": self.critic.parameters(), "lr": config.learning_rate}],
            config.learning_rate,
            self.device,
        )
        self.buffer = ReplayBuffer(config.buffer_size, self.layout.packed_size, n_actions, config.obs_dtype, self.device)
        self.replay_ratio = ReplayRatio(config.replay_ratio, config.batch_size, config.learning_starts)
        self.revision = ActionRevision.from_config(config, n_actions)
        self.progress = 0.0
        self.gradient_steps = 0
        self._new_transitions = 0

    def set_progress(self, fraction: float) -> None:
        """Fraction (0..1, clipped) of the training budget spent; drives ``learning_rate_end`` if set."""
        if not math.isfinite(fraction):
            raise ValueError(f"progress fraction must be finite, got {fraction}")
        self.progress = min(max(float(fraction), 0.0), 1.0)
        if self.config.learning_rate_end is not None:
            rate = linear_schedule(self.config.learning_rate, self.config.learning_rate_end, 1.0, self.progress)
            for group, base in zip(self.optimizer.param_groups, self.base_rates):
                group["lr"] = base * rate / self.config.learning_rate

    @property
    def entropy_coef(self) -> float:
        """The entropy weight at the current progress (``entropy_coef`` -> ``entropy_coef_end``)."""
        c = self.config
        if c.entropy_coef_end is None:
            return c.entropy_coef
        return linear_schedule(c.entropy_coef, c.entropy_coef_end, c.entropy_fraction, self.progress)

    @property
    def actor_temperature(self) -> float:
        """The actor's softmax temperature at the current progress (``actor_temperature`` -> ``actor_temperature_end``)."""
        c = self.config
        if c.actor_temperature_end is None:
            return c.actor_temperature
        return linear_schedule(c.actor_temperature, c.actor_temperature_end, c.entropy_fraction, self.progress)

    # -- acting ----------------------------------------------------------------------------------------
    def policy(self, observations: np.ndarray) -> np.ndarray:
        """pi(. | s) of the actor for ``n`` rows -> ``[n, n_actions]`` probabilities (no gradient)."""
        packed, _, rows = network_inputs(self.layout, observations, None, self.n_actions, self.device, with_mean_action=False)
        with torch.no_grad():
            logits = self.actor(packed, None, rows) / self.actor_temperature
            return torch.softmax(logits, dim=1).double().cpu().numpy()

    def act(self, observations: np.ndarray, mean_actions: np.ndarray | None = None, explore: bool = True) -> np.ndarray:
        """``[n]`` int64 actions sampled from pi(. | s) when exploring, else its mode (the actor ignores abar).

        With ``revision_rate < 1`` only the revising rows take these actions; the others repeat theirs.
        """
        revising = self.revision.revising(len(observations), self.rng)
        probabilities = self.policy(observations)
        if not explore:
            actions = probabilities.argmax(axis=1).astype(np.int64)
        else:
            actions = sample_categorical(probabilities, self.rng)
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

    def input_mean_actions(self, batch: Batch) -> torch.Tensor:
        """The abar paired with (s_t, a_t) (see ``MFACConfig.mean_action_input``)."""
        if self.config.mean_action_input == "observed":
            return batch.mean_actions
        return torch.where(batch.dones[:, None] == 0, batch.next_mean_actions, batch.mean_actions)

    def td_target(self, batch: Batch) -> torch.Tensor:
        """y = r + gamma (1 - done) sum_a pi_target(a | s') Q_target(s', a, abar')."""
        with torch.no_grad():
            next_logits = self.actor_target(batch.next_obs, None, batch.rows) / self.actor_temperature
            next_q = self.critic_target(batch.next_obs, batch.next_mean_actions, batch.rows)
            next_value = (torch.softmax(next_logits, dim=1) * next_q).sum(dim=1)
            return batch.rewards + self.config.gamma * (1.0 - batch.dones) * next_value

    def losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Critic, actor and entropy terms of one minibatch (tensors with gradients)."""
        abar = self.input_mean_actions(batch)
        q = self.critic(batch.obs, abar, batch.rows)
        q_taken = q.gather(1, batch.actions[:, None]).squeeze(1)
        target = self.td_target(batch)
        critic = F.smooth_l1_loss(q_taken, target) if self.config.loss == "huber" else F.mse_loss(q_taken, target)
        log_pi = torch.log_softmax(self.actor(batch.obs, None, batch.rows) / self.actor_temperature, dim=1)
        pi = log_pi.exp()
        if self.config.actor_update == "all_actions":
            with torch.no_grad():
                advantages = q - (pi * q).sum(dim=1, keepdim=True)
                if self.config.normalize_advantage and len(advantages) > 1:
                    advantages = advantages / (advantages.std() + 1e-8)
            actor = -(pi * advantages).sum(dim=1).mean()
        else:
            with torch.no_grad():
                advantage = q_taken - (pi * q).sum(dim=1)
                if self.config.normalize_advantage and len(advantage) > 1:
                    advantage = (advantage - advantage.mean()) / (advantage.std() + 1e-8)
            actor = -(log_pi.gather(1, batch.actions[:, None]).squeeze(1) * advantage).mean()
        entropy = -(pi * log_pi).sum(dim=1).mean()
        return {
            "critic": critic,
            "actor": actor,
            "entropy": entropy,
            "q_values": q_taken.mean(),
            # diagnostics: a batch where every reward is 0 gives the actor no gradient (the Squeeze's G underflow)
            "nonzero_reward_batches": (batch.rewards != 0).any().float(),
            "policy_mean_action": (pi.detach() * torch.arange(self.n_actions, device=pi.device)).sum(dim=1).mean(),
        }

    def update(self) -> dict[str, float]:
        """Take the gradient steps due (``replay_ratio``); metrics, or ``{}`` when none was due."""
        due = self.replay_ratio.steps_due(self._new_transitions, len(self.buffer))
        self._new_transitions = 0
        if due == 0:
            return {}
        c = self.config
        totals = dict.fromkeys(("critic", "actor", "entropy", "q_values", "nonzero_reward_batches", "policy_mean_action"), 0.0)
        for _ in range(due):
            terms = self.losses(self.buffer.sample(c.batch_size, self.rng))
            loss = terms["actor"] + c.value_coef * terms["critic"] - self.entropy_coef * terms["entropy"]
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if c.max_grad_norm > 0:
                torch.nn.utils.clip_grad_norm_([*self.actor.parameters(), *self.critic.parameters()], c.max_grad_norm)
            self.optimizer.step()
            soft_update(self.critic_target, self.critic, c.critic_tau)
            soft_update(self.actor_target, self.actor, c.actor_tau)
            self.gradient_steps += 1
            for key in totals:
                totals[key] += terms[key].item() / due
        diagnostics = ("nonzero_reward_batches", "policy_mean_action")
        metrics = {f"{'charts' if key in diagnostics else 'losses'}/{key}": value for key, value in totals.items()}
        metrics["charts/gradient_steps"] = float(self.gradient_steps)
        metrics["charts/entropy_coef"] = self.entropy_coef
        metrics["charts/actor_temperature"] = self.actor_temperature
        return metrics

    # -- persistence -----------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, torch.Tensor]:
        """Actor, critic, their targets, Adam state and counters (the replay buffer is not saved)."""
        return {
            **module_tensors("actor", self.actor),
            **module_tensors("actor_target", self.actor_target),
            **module_tensors("critic", self.critic),
            **module_tensors("critic_target", self.critic_target),
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
        for prefix in ("actor", "actor_target", "critic", "critic_target"):
            load_module_tensors(prefix, getattr(self, prefix), state)
        load_optimizer_tensors("optimizer", self.optimizer, state)
        self.gradient_steps = int(state["counters.gradient_steps"])
        self.progress = float(state["counters.progress"])
        self.replay_ratio.credit = float(state["counters.replay_credit"])

    def policy_state_dict(self) -> dict[str, torch.Tensor]:
        """The actor (greedy acting is the mode of pi(. | s))."""
        return module_tensors("actor", self.actor)

    def load_policy_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Load the actor (float16 entries are widened) and copy it into the target actor."""
        load_module_tensors("actor", self.actor, {key: value.float() for key, value in state.items()})
        self.actor_target.load_state_dict(self.actor.state_dict())

    def config_dict(self) -> dict[str, Any]:
        return asdict(self.config)

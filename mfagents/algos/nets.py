"""The one place networks are built: encoders, the mean-action branch, the Q / actor heads, soft updates.

A network here is a ``BranchedNet``: an observation encoder, an optional mean-action branch, an
optional agent-id embedding, concatenated into an MLP head with one output per action. The same class
is the Q network Q(s, a, abar) (mean-action branch on: MF-Q, the MF-AC critic), the IL network (branch
off) and the MF-AC / AC actor (branch off, outputs are logits).

The encoder is chosen from the observation space:

* 1-D ``Box`` (Gaussian Squeeze, Ising): an MLP.
* 3-D HWC ``Box`` (Battle, MAgent2's layout): the paper's Battle net. The leading ``view_channels``
  channels are the 13 x 13 view (conv 32-32, 3 x 3 -> 256); the remaining channels are the feature
  vector tiled over the window, read from one cell (-> 32). Mean action -> 64 -> 32; the head is
  128 -> 64 -> actions.

Observations are *packed* before they reach a network or the replay buffer (``ObservationLayout``):
a Battle observation becomes its flattened view followed by ONE copy of its feature vector, so the
34 feature channels are not stored 169 times (``13 * 13 * 7 + 34`` floats instead of ``13 * 13 * 41``).

Every initialisation draws from an explicit ``torch.Generator``; nothing here touches the global RNG
state that results depend on.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import gymnasium
import numpy as np
import torch
from torch import nn

from mfagents.algos.precision import autocast, resolve_precision
from mfenvs.battle.config import ID_BITS, N_ACTIONS

BATTLE_FEATURES_WITH_MINIMAP = ID_BITS + N_ACTIONS + 1 + 2
"""Battle feature channels with ``extra_features`` and the minimap on: id bits, last action, last reward, (x, y)."""


def battle_view_channels(n_channels: int) -> int:
    """How many leading channels of a Battle observation are the view (7 with the minimap, 5 without).

    Battle observations have 5 channels (no minimap, no features), 9 (minimap: 7 view + (x, y)),
    37 (no minimap, ``extra_features``: 5 + 32) or 41 (both: 7 + 34, the paper's setup).

    Raises:
        ValueError: ``n_channels`` is not one of Battle's layouts (pass ``view_channels`` explicitly).
    """
    layouts = {5: 5, 9: 7, 5 + BATTLE_FEATURES_WITH_MINIMAP - 2: 5, 7 + BATTLE_FEATURES_WITH_MINIMAP: 7}
    if n_channels not in layouts:
        raise ValueError(
            f"a {n_channels}-channel observation is not a Battle layout ({sorted(layouts)} channels); "
            "pass view_channels to say how many leading channels are the spatial view"
        )
    return layouts[n_channels]


@dataclass(frozen=True)
class ObservationLayout:
    """How one agent's observation is packed into the flat float vector networks and buffers use.

    Attributes:
        shape: the observation shape (``(d,)`` or ``(H, W, C)``).
        view_channels: leading spatial channels of an HWC observation; ``None`` for a 1-D observation.
    """

    shape: tuple[int, ...]
    view_channels: int | None = None

    @property
    def view_shape(self) -> tuple[int, int, int]:
        """``(H, W, view_channels)`` of an HWC observation."""
        if self.view_channels is None:
            raise ValueError("a 1-D observation has no view")
        return self.shape[0], self.shape[1], self.view_channels

    @property
    def n_features(self) -> int:
        """Channels after the view (tiled features), 0 for a 1-D observation."""
        return 0 if self.view_channels is None else self.shape[2] - self.view_channels

    @property
    def packed_size(self) -> int:
        """Length of a packed observation."""
        if self.view_channels is None:
            return self.shape[0]
        height, width, view = self.view_shape
        return height * width * view + self.n_features

    def pack(self, observations: np.ndarray) -> np.ndarray:
        """``[n, *shape]`` observations -> ``[n, packed_size]`` float32 (view flattened, then one copy of the features).

        Raises:
            ValueError: the observations do not have the layout's shape.
        """
        observations = np.asarray(observations)
        if observations.shape[1:] != self.shape:
            raise ValueError(f"observations have shape {observations.shape}, expected [n, {', '.join(map(str, self.shape))}]")
        if self.view_channels is None:
            return observations.astype(np.float32, copy=False)
        n = observations.shape[0]
        view = observations[..., : self.view_channels].reshape(n, -1)
        features = observations[:, 0, 0, self.view_channels :]
        return np.concatenate([view, features], axis=1, dtype=np.float32)


def observation_layout(observation_space: gymnasium.spaces.Space, view_channels: int | None = None) -> ObservationLayout:
    """The packing layout for ``observation_space`` (a 1-D Box, or a 3-D HWC Box).

    Args:
        observation_space: one agent's observation space.
        view_channels: leading view channels of an HWC observation; ``None`` infers Battle's layout.

    Raises:
        TypeError: not a ``Box``. ValueError: not 1-D or 3-D, or ``view_channels`` out of range.
    """
    if not isinstance(observation_space, gymnasium.spaces.Box):
        raise TypeError(f"observation_space must be a gymnasium Box, got {type(observation_space).__name__}")
    shape = tuple(int(s) for s in observation_space.shape)
    if len(shape) == 1:
        return ObservationLayout(shape)
    if len(shape) != 3:
        raise ValueError(f"observation_space must be 1-D (MLP) or 3-D HWC (conv), got shape {shape}")
    view = battle_view_channels(shape[2]) if view_channels is None else int(view_channels)
    if not 1 <= view <= shape[2]:
        raise ValueError(f"view_channels must be in 1..{shape[2]}, got {view}")
    return ObservationLayout(shape, view)


def mlp(sizes: Sequence[int], activate_last: bool = True) -> nn.Sequential:
    """Linear layers through ``sizes`` with ReLU between them (and after the last when ``activate_last``)."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if activate_last or i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class ViewFeatureEncoder(nn.Module):
    """The paper's Battle encoder on a packed observation: conv view -> 256, features -> 32, concatenated.

    ``precision="bfloat16"`` runs the view's convolutions and dense layer under bf16 autocast
    (``mfagents.algos.precision``); the output is float32 either way.
    """

    def __init__(self, layout: ObservationLayout, precision: str = "float32"):
        super().__init__()
        self.precision = precision
        height, width, channels = layout.view_shape
        self.view_shape = (height, width, channels)
        self.view_size = height * width * channels
        # views narrower than 5 cells (tiger-deer's 3 x 3 deer) keep their size through zero-padded
        # convolutions (two unpadded ones would leave nothing of them); wider ones (Battle's 13 x 13, a tiger's
        # 9 x 9) shrink by 2 cells per convolution, as in the paper's network, so their parameters are unchanged
        padding = 1 if min(height, width) < 5 else 0
        self.conv = nn.Sequential(
            nn.Conv2d(channels, 32, 3, padding=padding), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=padding), nn.ReLU(),
            nn.Flatten(),
        )
        shrink = 0 if padding else 4
        self.view_dense = mlp([32 * (height - shrink) * (width - shrink), 256])
        self.feature_dense = mlp([layout.n_features, 32]) if layout.n_features else None
        self.out_dim = 256 + (32 if self.feature_dense is not None else 0)

    def forward(self, packed: torch.Tensor) -> torch.Tensor:
        view = packed[:, : self.view_size].reshape(-1, *self.view_shape).permute(0, 3, 1, 2)
        with autocast(self.precision, packed.device.type):
            encoded = self.view_dense(self.conv(view)).float()
        if self.feature_dense is None:
            return encoded
        return torch.cat([encoded, self.feature_dense(packed[:, self.view_size :])], dim=1)


class BranchedNet(nn.Module):
    """Observation encoder [+ mean-action branch] [+ agent-id embedding] -> MLP head -> one output per action."""

    def __init__(
        self,
        layout: ObservationLayout,
        n_actions: int,
        use_mean_action: bool,
        hidden: Sequence[int] = (128, 64),
        encoder_hidden: Sequence[int] = (64, 64),
        n_agent_ids: int = 0,
        agent_id_dim: int = 16,
        precision: str = "float32",
    ):
        super().__init__()
        if layout.view_channels is None:
            self.encoder: nn.Module = mlp([layout.packed_size, *encoder_hidden])
            width = encoder_hidden[-1] if encoder_hidden else layout.packed_size
        else:
            self.encoder = ViewFeatureEncoder(layout, precision)
            width = self.encoder.out_dim
        self.mean_action_branch = mlp([n_actions, 64, 32]) if use_mean_action else None
        width += 32 if use_mean_action else 0
        self.agent_embedding = nn.Embedding(n_agent_ids, agent_id_dim) if n_agent_ids else None
        width += agent_id_dim if n_agent_ids else 0
        self.head = mlp([width, *hidden, n_actions], activate_last=False)
        self.n_actions = n_actions

    @property
    def uses_mean_action(self) -> bool:
        return self.mean_action_branch is not None

    def forward(
        self, packed_obs: torch.Tensor, mean_actions: torch.Tensor | None = None, rows: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``[B, packed]`` observations, ``[B, n_actions]`` mean actions, ``[B]`` row indices -> ``[B, n_actions]``.

        ``mean_actions`` is ignored without a mean-action branch; ``rows`` is ignored without an id
        embedding (with one, row r is agent ``r % n_agent_ids``).
        """
        parts = [self.encoder(packed_obs)]
        if self.mean_action_branch is not None:
            if mean_actions is None:
                raise ValueError("this network takes the mean action as input; mean_actions is None")
            parts.append(self.mean_action_branch(mean_actions))
        if self.agent_embedding is not None:
            if rows is None:
                raise ValueError("this network has an agent-id embedding; rows is None")
            parts.append(self.agent_embedding(rows % self.agent_embedding.num_embeddings))
        return self.head(torch.cat(parts, dim=1))


def initialise(module: nn.Module, generator: torch.Generator) -> None:
    """Re-draw every parameter of ``module`` from ``generator`` with PyTorch's default schemes.

    Linear / Conv2d: Kaiming-uniform weights (a = sqrt(5)) and uniform(+-1/sqrt(fan_in)) biases;
    Embedding: standard normal.
    """
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, (nn.Linear, nn.Conv2d)):
                nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
                if layer.bias is not None:
                    fan_in = layer.weight[0].numel()
                    bound = 1.0 / math.sqrt(fan_in)
                    nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
            elif isinstance(layer, nn.Embedding):
                nn.init.normal_(layer.weight, generator=generator)


def build_network(
    layout: ObservationLayout,
    n_actions: int,
    use_mean_action: bool,
    generator: torch.Generator,
    hidden: Sequence[int] = (128, 64),
    encoder_hidden: Sequence[int] = (64, 64),
    n_agent_ids: int = 0,
    device: str | torch.device = "cpu",
    zero_output: bool = False,
    precision: str = "float32",
) -> BranchedNet:
    """Build and seed a ``BranchedNet`` (Q network, IL network, actor or critic).

    Args:
        layout: from ``observation_layout``.
        n_actions: outputs (one per discrete action).
        use_mean_action: add the mean-action branch (abar -> 64 -> 32).
        generator: draws the initial parameters.
        hidden: head sizes after the concatenation (the paper's Battle net: 128, 64).
        encoder_hidden: MLP encoder sizes for 1-D observations (unused for the conv encoder).
        n_agent_ids: size of an agent-id embedding table (0: no id input).
        device: where the parameters live.
        zero_output: zero the output layer's weights and bias, so every output starts at exactly 0
            (Q values all tied, a uniform actor); the other layers are still drawn from ``generator``.
        precision: ``auto``, ``float32`` or ``bfloat16``, the compute precision of a convolutional view
            encoder (``mfagents.algos.precision.resolve_precision``); MLP encoders stay float32.
    """
    if n_actions < 1:
        raise ValueError(f"n_actions must be >= 1, got {n_actions}")
    encoder_precision = resolve_precision(precision, device)
    net = BranchedNet(layout, n_actions, use_mean_action, hidden, encoder_hidden, n_agent_ids, precision=encoder_precision)
    initialise(net, generator)
    if zero_output:
        output_layer = net.head[-1]
        with torch.no_grad():
            output_layer.weight.zero_()
            output_layer.bias.zero_()
    return net.to(device)


class SeparateActors(nn.Module):
    """One actor per agent for a stateless repeated game: a logit table ``[n_agents, n_actions]``.

    The paper keeps MF-AC's actors separate (Appendix C.1); here they are one tensor, so all agents
    learn in one batched step, never a Python loop. Row ``r`` is agent ``r % n_agents``; the observation
    is not read (the game has no state to condition on). The initial logits are drawn per agent and
    action, as separate networks are initialised separately: N(0, ``init_std``), plus ``init_bonus`` on
    ``init_action``.
    """

    def __init__(
        self,
        n_agents: int,
        n_actions: int,
        generator: torch.Generator,
        init_std: float = 0.0,
        init_action: int = 0,
        init_bonus: float = 0.0,
    ):
        super().__init__()
        if not 0 <= init_action < n_actions:
            raise ValueError(f"init_action must be in 0..{n_actions - 1}, got {init_action}")
        logits = torch.randn(n_agents, n_actions, generator=generator) * init_std
        logits[:, init_action] += init_bonus
        self.logits = nn.Parameter(logits)

    def forward(
        self, packed_obs: torch.Tensor, mean_actions: torch.Tensor | None = None, rows: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``[B]`` row indices -> ``[B, n_actions]`` logits of those rows' agents (the other inputs are ignored)."""
        if rows is None:
            raise ValueError("separate actors need the row indices (row r is agent r % n_agents)")
        return self.logits[rows % self.logits.shape[0]]


def build_q_network(
    observation_space: gymnasium.spaces.Space,
    n_actions: int,
    use_mean_action: bool,
    generator: torch.Generator,
    hidden: Sequence[int] = (128, 64),
    view_channels: int | None = None,
    **kwargs: object,
) -> BranchedNet:
    """Q(s, ., abar) (or Q(s, .) without the mean action) for ``observation_space``; see ``build_network``."""
    layout = observation_layout(observation_space, view_channels)
    return build_network(layout, n_actions, use_mean_action, generator, hidden, **kwargs)


def network_inputs(
    layout: ObservationLayout,
    observations: np.ndarray,
    mean_actions: np.ndarray | None,
    n_actions: int,
    device: torch.device,
    with_mean_action: bool = True,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """Acting-time inputs for ``n`` rows: (packed observations, mean actions or None, row indices) as tensors.

    Raises:
        ValueError: wrong observation shape, or ``mean_actions`` not ``[n, n_actions]`` when it is used.
    """
    packed = torch.as_tensor(layout.pack(observations), device=device)
    n = packed.shape[0]
    abar = None
    if with_mean_action:
        if np.shape(mean_actions) != (n, n_actions):
            raise ValueError(f"mean_actions has shape {np.shape(mean_actions)}, expected [{n}, {n_actions}]")
        abar = torch.as_tensor(np.asarray(mean_actions, dtype=np.float32), device=device)
    return packed, abar, torch.arange(n, device=device)


# -- parameter plumbing shared by the learners -------------------------------------------------------
@torch.no_grad()
def soft_update(target: nn.Module, online: nn.Module, tau: float) -> None:
    """``target <- tau * online + (1 - tau) * target`` for every parameter, in one fused call (tau = 1 copies)."""
    torch._foreach_lerp_(list(target.parameters()), list(online.parameters()), tau)


def adam(parameters: Iterable[torch.nn.Parameter] | list[dict], learning_rate: float, device: torch.device) -> torch.optim.Adam:
    """Adam over ``parameters`` (tensors or param groups), fused into one kernel per step on CPU and CUDA.

    The fused step computes the same update as the per-tensor loop, one call for all parameters instead
    of ~10 small ops per tensor.
    """
    fused = device.type in ("cpu", "cuda")
    return torch.optim.Adam(parameters, lr=learning_rate, fused=fused or None)

"""Games as data: agent types, groups, reward rules and a map, like MAgent's ``get_config`` + ``generate_map``.

A game module declares an ``AgentType`` per kind of unit (MAgent's ``register_agent_type`` options),
one ``Group`` per team of units of one type (``add_group``), its ``RewardRule`` s (``add_reward_rule``
with the attacker as receiver) and its map: the interior walls and a ``generate_map(rng)`` that returns
each group's start cells. ``mfenvs.gridworld.GridCore`` steps any such ``Game``; nothing of a game
is in the kernels, which read the per-type and per-group tables that ``Game.tables()`` builds.

Example (Battle, as ``mfenvs.battle.game`` declares it)::

    small = AgentType(hp=10, speed=2, view_radius=6, attack_radius=1.5, damage=2, kill_reward=5,
                      step_recover=0.1, step_reward=-0.005, dead_penalty=-0.1, attack_penalty=-0.1)
    game = Game(name="battle", map_size=40, groups=(Group("red", small), Group("blue", small)),
                rules=(RewardRule("attack", "red", "blue", 0.2), RewardRule("attack", "blue", "red", 0.2)),
                counts=(64, 64), generate_map=partial(place, config))  # place: mfenvs.battle.game.place

Tiger-deer adds: agent types with different view radii in one game (each type's window is centred
in the game's largest one, ``Game.view_size``), negative ``step_recover`` (starvation: death when hp
drops below 0), heal-on-kill (``kill_supply``), reward rules paid to the victim (``receiver="victim"``)
or to two attackers of one victim (``JointAttackRule``, MAgent's ``(a attack c) & (b attack c)``), and
walls and spawns drawn per episode (``generate_map`` returning a ``MapLayout``).

Adversarial pursuit adds bodies larger than 1 x 1 (``AgentType.width``: MAgent's 2 x 2 predators; the
position is the body's top-left cell, every body cell is occupied and seen, moves test the whole
destination area, attacks and the view are centred on the body, MAgent2's ``CircleRange`` with even
parity) and zero-damage attacks ("tags": ``damage=0``, nothing dies).

Gather adds: groups that never act (``Group(passive=True)``: MAgent2's food, stepped with its type's
stay and left out of a PettingZoo env's agents) and games without MAgent's id bits in the features
(``Game(id_bits=0)``: gather's ``embedding_size`` is unset).

Each type's features are MAgent's layout for its own action set
(``Game.feature_size``; rows of shorter types are padded with zeros), and a core can tile a different
list of feature columns per type (combined arms).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import NamedTuple

import numpy as np

from mfenvs.common.validation import check_float, check_int

ID_BITS = 10
"""MAgent's ``embedding_size`` of every game but gather: the agent id as 10 binary features."""

EVENTS = ("attack", "kill")


def check_placement(
    map_size: int,
    positions: Mapping[str, Sequence[tuple[int, int]]],
    groups: Sequence[str],
    walls: Sequence[tuple[int, int]] = (),
    widths: Mapping[str, int] | None = None,
) -> None:
    """Raise ``ValueError`` unless explicit ``positions`` (a group -> its agents' cells) give every one of ``groups``
    at least one agent, and those agents (a group of ``widths[group]`` cells square covers them from its position,
    the top-left) and ``walls`` are inside the wall ring, one thing per cell."""
    widths = widths or {}
    if sorted(positions) != sorted(groups):
        raise ValueError(f"positions must give the cells of each of {tuple(groups)}, got {sorted(positions)}")
    cells = [
        (x + dx, y + dy)
        for group in groups
        for x, y in positions[group]
        for dx in range(widths.get(group, 1))
        for dy in range(widths.get(group, 1))
    ] + [tuple(cell) for cell in walls]
    if len(set(cells)) != len(cells):
        wide = ", ".join(f"a {group} covers {w} x {w} cells from its position" for group, w in widths.items() if w > 1)
        raise ValueError("positions and walls: two things on one cell" + (f" ({wide})" if wide else ""))
    if any(not (0 < x < map_size - 1 and 0 < y < map_size - 1) for x, y in cells):
        raise ValueError(f"positions and walls must be inside the wall ring, 1 .. {map_size - 2}")
    if any(len(positions[group]) == 0 for group in groups):
        raise ValueError("positions: every group needs at least one agent")


@cache
def circle_range(radius: float, inner_radius: float) -> tuple[tuple[int, int], ...]:
    """MAgent's ``CircleRange(radius, inner_radius, parity=1)``: the ``(dx, dy)`` cells at distance
    ``> inner_radius`` and ``< radius`` (each with MAgent's 1e-8 slack), row-major (``dy`` outer, ``dx`` inner).

    Moves are ``circle_range(speed, 0)`` (the centre, "stay", included); attacks of a 1 x 1 unit are
    ``circle_range(attack_radius, 0.5)`` (its own cell excluded); views ``circle_range(view_radius, 0)``.
    """
    eps = 1e-8
    centre = int(radius)
    offsets = []
    for dy in range(-centre, centre + 1):
        for dx in range(-centre, centre + 1):
            distance = math.sqrt(dx * dx + dy * dy)
            if inner_radius - eps < distance < radius + eps:
                offsets.append((dx, dy))
    return tuple(offsets)


@cache
def body_range(radius: float, inner_radius: float, width: int) -> tuple[tuple[int, int], ...]:
    """MAgent's ``CircleRange(radius, inner_radius, parity=width % 2)`` of a ``width`` x ``width`` body, as
    ``(dx, dy)`` offsets from the body's top-left cell, row-major (``gw/Range.h``, ``gw/AgentType.cc``).

    With an even width the range is centred between cells (MAgent's ``delta`` 0.5: distances from the
    body's centre) and anchored at the body's "eye", top-left + ``width // 2``: a 2 x 2 body's attack
    range of radius 2 (inner radius ``width / 2`` = 1) is the 8-cell ring around it, in the order
    (0, -1), (1, -1), (-1, 0), (2, 0), (-1, 1), (2, 1), (0, 2), (1, 2) (MAGENT2_GAMES.md section 2.4).
    Width 1 gives ``circle_range(radius, inner_radius)``.
    """
    if width == 1:
        return circle_range(radius, inner_radius)
    eps = 1e-8
    parity = width % 2
    size = 2 * int(radius + eps) + parity
    if size % 2 != parity:
        size += 1
    centre = int(radius)
    delta = 0.5 if parity == 0 else 0.0
    eye = width // 2
    offsets = []
    for i in range(size):
        for j in range(size):
            distance = math.hypot(j - centre + delta, i - centre + delta)
            if inner_radius - eps < distance < radius + eps:
                offsets.append((j - centre + eye, i - centre + eye))
    return tuple(offsets)


@dataclass(frozen=True)
class AgentType:
    """One kind of unit: MAgent's ``register_agent_type`` options.

    The step, death and attack rewards belong to the acting agent's type; ``kill_reward`` to the
    victim's type (paid to its killer, as MAgent's engine does).
    """

    hp: float = 10.0
    """Hit points of a fresh agent (also the hp of the observation's ``hp / max_hp``)."""
    speed: float = 2.0
    """Move range: every cell within this distance (``circle_range(speed, 0)``; 2 gives 13 moves)."""
    view_radius: float = 6.0
    """View circle radius: the window is ``(2 r + 1)`` cells square, cells beyond ``r`` read 0."""
    attack_radius: float = 1.5
    """Attack range: every other cell within this distance (1.5 gives the 8 neighbours)."""
    damage: float = 2.0
    """Hit points one attack removes."""
    step_recover: float = 0.1
    """Hit points regained per step after the attacks, capped at ``hp`` (MAgent's ``step_recover``);
    negative: lost every step (starvation), the agent dies when its hp drops below 0 (``Agent::starve``)."""
    kill_supply: float = 0.0
    """Hit points its killer regains (capped at the killer's ``hp``) at the killing blow (``Map::do_attack``)."""
    kill_reward: float = 0.0
    """Reward of the agent that kills one of this type (the killing blow)."""
    step_reward: float = 0.0
    """Reward of every living agent of this type every step."""
    dead_penalty: float = 0.0
    """Reward of an agent of this type on the step it dies (replaces its other rewards of that step)."""
    attack_penalty: float = 0.0
    """Reward for using an attack action, hit or miss."""
    attack_in_group: bool = False
    """Whether its attacks hit agents of its own group (else they are misses)."""
    width: int = 1
    """Side of its square body (MAgent's ``width`` = ``length``; adversarial pursuit's predators: 2).
    Its position is the body's top-left cell; its view and attacks are centred on the body."""

    def __post_init__(self) -> None:
        check_float("hp", self.hp, positive=True)
        check_float("speed", self.speed, non_negative=True)
        check_float("view_radius", self.view_radius, positive=True)
        check_float("attack_radius", self.attack_radius, non_negative=True)
        check_float("damage", self.damage, non_negative=True)
        check_float("step_recover", self.step_recover)
        check_float("kill_supply", self.kill_supply, non_negative=True)
        for name in ("kill_reward", "step_reward", "dead_penalty", "attack_penalty"):
            check_float(name, getattr(self, name))
        if not isinstance(self.attack_in_group, bool):
            raise TypeError(f"attack_in_group must be a bool, got {self.attack_in_group!r}")
        check_int("width", self.width, minimum=1)

    @property
    def move_offsets(self) -> tuple[tuple[int, int], ...]:
        """``(dx, dy)`` of the move actions, in action order (MAgent's)."""
        return circle_range(self.speed, 0.0)

    @property
    def attack_offsets(self) -> tuple[tuple[int, int], ...]:
        """``(dx, dy)`` of the attack actions from the body's top-left cell, which follow the moves
        (MAgent's inner radius is ``width / 2``: the body itself is never a target)."""
        return body_range(self.attack_radius, self.width / 2, self.width)

    @property
    def n_actions(self) -> int:
        return len(self.move_offsets) + len(self.attack_offsets)

    @property
    def stay(self) -> int:
        """The no-op: the centre move cell (6 at speed 2), not action 0."""
        return self.move_offsets.index((0, 0))


@dataclass(frozen=True)
class Group:
    """A team of agents of one type (MAgent's ``add_group``); its agents are named ``{name}_{i}``."""

    name: str
    agent_type: AgentType
    passive: bool = False
    """The group never acts (MAgent2's gather food, outside its wrapper's ``handles[1:]``): it is on the
    map, in the views and the state, and can be attacked, but a PettingZoo env gives it no agents and
    the core is stepped with its type's stay for it (``Game.passive_slots``)."""


RECEIVERS = ("attacker", "victim")


@dataclass(frozen=True)
class RewardRule:
    """A reward when an agent of group ``attacker`` hits one of group ``victim``, paid to the ``receiver``.

    ``event`` is MAgent's: ``"attack"`` fires on a hit that does not kill, ``"kill"`` on the killing
    blow (which fires no ``"attack"`` rule). Several rules on the same pair add up. ``receiver`` is
    ``"attacker"`` (MAgent's ``receiver=[a]``) or ``"victim"`` (``receiver=[c]``, tiger-deer's
    ``deer_attacked``: once per non-killing hit); a killing blow pays no victim (its reward is its
    ``dead_penalty``), so victim rules are ``"attack"`` rules.
    """

    event: str
    attacker: str
    victim: str
    reward: float
    receiver: str = "attacker"

    def __post_init__(self) -> None:
        if self.event not in EVENTS:
            raise ValueError(f"event must be one of {EVENTS}, got {self.event!r}")
        if self.receiver not in RECEIVERS:
            raise ValueError(f"receiver must be one of {RECEIVERS}, got {self.receiver!r}")
        if self.receiver == "victim" and self.event != "attack":
            raise ValueError("a victim's reward on the step it is killed is its dead_penalty: victim rules are 'attack' rules")
        check_float("reward", self.reward)


@dataclass(frozen=True)
class JointAttackRule:
    """MAgent's ``(a attack c) & (b attack c)`` with ``receiver=[a, b]``: ``a`` and ``b`` any two distinct
    agents of group ``attackers``, ``c`` an agent of group ``victim``.

    MAgent's ``calc_rule`` enumerates every ordered pair ``(a, b)`` whose non-killing hits (``"attack"``
    events) of the step landed on the same ``c``, paying ``rewards[0]`` to ``a`` and ``rewards[1]`` to
    ``b``: an agent earns ``rewards[0] + rewards[1]`` per *other* agent of its group that made a
    non-killing hit on its victim this step (tiger-deer: +0.5 + 0.5 per other tiger).
    """

    attackers: str
    victim: str
    rewards: tuple[float, float]

    def __post_init__(self) -> None:
        if len(self.rewards) != 2:
            raise ValueError(f"rewards must be two numbers (to a and to b), got {self.rewards!r}")
        for reward in self.rewards:
            check_float("rewards", reward)

    @property
    def per_partner(self) -> float:
        """An agent's reward per other agent of its group that hit the same victim."""
        return float(np.float32(self.rewards[0]) + np.float32(self.rewards[1]))


class MapLayout(NamedTuple):
    """What a ``generate_map`` that draws its walls returns: the interior walls ``[K, 2]`` ``(x, y)``
    (added to the game's fixed ones), then each group's ``[n_g, 2]`` start cells."""

    walls: np.ndarray
    groups: Sequence[np.ndarray]


Placement = Callable[[np.random.Generator], "Sequence[np.ndarray] | MapLayout"]
"""``generate_map(rng)``: each group's ``[n_g, 2]`` start cells ``(x, y)``, or a ``MapLayout`` with the
walls of the episode first (MAgent's order: walls, then groups), drawing from ``rng`` if random."""


class Tables(NamedTuple):
    """A game as the kernels read it: per-slot type and group, per-type numbers, per-group-pair rules.

    Types are numbered in order of first appearance among the groups; ``T`` types, ``G`` groups,
    ``A`` = the most actions of any type (action tables are padded with zeros).
    """

    slot_type: np.ndarray  # [N] int64
    slot_group: np.ndarray  # [N] int64
    max_hp: np.ndarray  # [T] float32
    damage: np.ndarray  # [T] float32
    recover: np.ndarray  # [T] float32 (negative: starvation)
    kill_supply: np.ndarray  # [T] float32: hp the killer of one regains
    step_reward: np.ndarray  # [T] float32
    attack_penalty: np.ndarray  # [T] float32
    dead_penalty: np.ndarray  # [T] float32
    kill_reward: np.ndarray  # [T] float32
    attack_in_group: np.ndarray  # [T] bool
    n_moves: np.ndarray  # [T] int64
    n_actions: np.ndarray  # [T] int64
    stay: np.ndarray  # [T] int64
    action_dx: np.ndarray  # [T, A] int64: moves, then attacks
    action_dy: np.ndarray  # [T, A] int64
    hit_reward: np.ndarray  # [G, G] float32: attacker group x victim group, non-killing hit
    kill_bonus: np.ndarray  # [G, G] float32: "kill" rules, added to the victim type's kill_reward
    victim_reward: np.ndarray  # [G, G] float32: "attack" rules paid to the victim of a non-killing hit
    joint_reward: np.ndarray  # [G, G] float32: JointAttackRule, per other hitter of the same victim
    has_joint: bool  # any joint_reward is nonzero (the kernel counts co-hits only then)
    view_sizes: np.ndarray  # [T] int64: side of each type's own view window
    widths: np.ndarray  # [T] int64: side of each type's square body (1 but for 2 x 2 predators)


@dataclass(frozen=True)
class Game:
    """A whole game: groups (with their types), reward rules, the map and the start cells.

    Slots are numbered group by group in ``groups`` order (MAgent's handle order). The derived sizes
    are cached on first use (``GridCore`` reads them every step).
    """

    name: str
    map_size: int
    groups: tuple[Group, ...]
    counts: tuple[int, ...]
    """Agents per group."""
    generate_map: Placement = field(compare=False)
    rules: tuple[RewardRule | JointAttackRule, ...] = ()
    walls: tuple[tuple[int, int], ...] = ()
    """Interior wall cells ``(x, y)``; the outermost ring of the map is always wall."""
    minimap_mode: bool = False
    """Add one minimap channel per group to the view (MAgent's ``minimap_mode``)."""
    id_bits: int = ID_BITS
    """Binary id bits at the start of the features (MAgent's ``embedding_size``: 10, gather's 0)."""

    def __post_init__(self) -> None:
        check_int("map_size", self.map_size, minimum=3)
        check_int("id_bits", self.id_bits, minimum=0)
        names = [group.name for group in self.groups]
        if len(set(names)) != len(names) or not names:
            raise ValueError(f"groups must have distinct names, got {names}")
        if len(self.counts) != len(self.groups) or any(check_int("counts", c, minimum=0) != c for c in self.counts):
            raise ValueError(f"counts must give one agent count per group, got {self.counts}")
        for rule in self.rules:
            attacker = rule.attackers if isinstance(rule, JointAttackRule) else rule.attacker
            for name in (attacker, rule.victim):
                if name not in names:
                    raise ValueError(f"reward rule {rule}: unknown group {name!r}")

    # -- derived tables --------------------------------------------------------------------------
    @cached_property
    def types(self) -> tuple[AgentType, ...]:
        """The distinct agent types, in order of first appearance among the groups."""
        return tuple(dict.fromkeys(group.agent_type for group in self.groups))

    @cached_property
    def n_groups(self) -> int:
        return len(self.groups)

    @cached_property
    def n_agents(self) -> int:
        return sum(self.counts)

    @property
    def group_starts(self) -> np.ndarray:
        """``[G + 1]`` first slot of each group, then ``N``."""
        return np.concatenate([[0], np.cumsum(self.counts)]).astype(np.int64)

    @cached_property
    def view_radius(self) -> int:
        """The largest view radius of the game's types (the window every view is centred in)."""
        return max(int(t.view_radius) for t in self.types)

    @cached_property
    def view_size(self) -> int:
        """Side of the views' common window (the largest type's own window, ``type_view_size``)."""
        return max(self.type_view_size(t) for t in self.types)

    @staticmethod
    def type_view_size(agent_type: AgentType) -> int:
        """Side of one type's own view window, ``2 r + 1`` (3 for tiger-deer's deer, 9 for its tigers),
        ``2 r`` for a body of even width (MAgent's ``CircleRange`` parity: 10 for a 2 x 2 predator)."""
        return 2 * int(agent_type.view_radius) + agent_type.width % 2

    @cached_property
    def max_actions(self) -> int:
        return max(t.n_actions for t in self.types)

    @cached_property
    def n_view_channels(self) -> int:
        """Wall, then per group (rotated so the observer's group comes first) presence, hp, [minimap]."""
        return 1 + self.n_groups * (3 if self.minimap_mode else 2)

    @cached_property
    def n_features(self) -> int:
        """Length of the core's feature rows: the longest type's ``feature_size``."""
        return self.id_bits + self.max_actions + 1 + 2

    def feature_size(self, agent_type: AgentType) -> int:
        """A type's features (MAgent's layout, with the position): id bits (``id_bits``), last action
        one-hot of its own actions, last reward, normalised (x, y). Rows of shorter types are padded with zeros."""
        return self.id_bits + agent_type.n_actions + 1 + 2

    @cached_property
    def passive_slots(self) -> np.ndarray:
        """``[K]`` int64 slots of the passive groups (``Group.passive``), in slot order; empty in most games."""
        starts = self.group_starts
        slots = [np.arange(starts[k], starts[k + 1]) for k, group in enumerate(self.groups) if group.passive]
        return np.concatenate(slots).astype(np.int64) if slots else np.zeros(0, dtype=np.int64)

    @cached_property
    def acting_slots(self) -> np.ndarray:
        """``[N - K]`` int64 slots of the groups that act, in slot order (every slot in most games)."""
        return np.setdiff1d(np.arange(self.n_agents), self.passive_slots).astype(np.int64)

    @cached_property
    def move_bands(self) -> tuple[int, int]:
        """``(n_bands, bandwidth)`` of MAgent's large-map move order, ``(0, 0)`` on maps of 99 x 99 cells or less.

        Above 99 x 99 cells (``GridWorld::reset``) MAgent splits the map into 8 x-bands of
        ``ceil(width / 8)`` columns (16 above 1000 x 1000) and moves the agents band by band, those in
        the boundary columns of every band last (``rules.move_order``; MAGENT2_GAMES.md section 1.5).
        """
        cells = self.map_size * self.map_size
        if cells <= 99 * 99:
            return 0, 0
        n_bands = 16 if cells > 1000 * 1000 else 8
        return n_bands, -(-self.map_size // n_bands)

    def wall_map(self) -> np.ndarray:
        """``[H, W]`` bool: the border ring plus the interior walls."""
        walls = np.zeros((self.map_size, self.map_size), dtype=bool)
        walls[[0, -1], :] = True
        walls[:, [0, -1]] = True
        for x, y in self.walls:
            walls[y, x] = True
        return walls

    def tables(self) -> Tables:
        """The game as the kernels read it (see ``Tables``)."""
        types = self.types
        type_index = {t: k for k, t in enumerate(types)}
        group_index = {g.name: k for k, g in enumerate(self.groups)}
        f32 = lambda values: np.array(values, dtype=np.float32)  # noqa: E731
        width = self.max_actions
        dx = np.zeros((len(types), width), dtype=np.int64)
        dy = np.zeros((len(types), width), dtype=np.int64)
        for k, t in enumerate(types):
            offsets = t.move_offsets + t.attack_offsets
            dx[k, : len(offsets)] = [o[0] for o in offsets]
            dy[k, : len(offsets)] = [o[1] for o in offsets]
        hit, kill, victim, joint = (np.zeros((self.n_groups, self.n_groups), dtype=np.float32) for _ in range(4))
        for rule in self.rules:
            if isinstance(rule, JointAttackRule):
                joint[group_index[rule.attackers], group_index[rule.victim]] += np.float32(rule.per_partner)
                continue
            table = victim if rule.receiver == "victim" else hit if rule.event == "attack" else kill
            table[group_index[rule.attacker], group_index[rule.victim]] += np.float32(rule.reward)
        return Tables(
            slot_type=np.repeat([type_index[g.agent_type] for g in self.groups], self.counts).astype(np.int64),
            slot_group=np.repeat(np.arange(self.n_groups), self.counts).astype(np.int64),
            max_hp=f32([t.hp for t in types]),
            damage=f32([t.damage for t in types]),
            recover=f32([t.step_recover for t in types]),
            kill_supply=f32([t.kill_supply for t in types]),
            step_reward=f32([t.step_reward for t in types]),
            attack_penalty=f32([t.attack_penalty for t in types]),
            dead_penalty=f32([t.dead_penalty for t in types]),
            kill_reward=f32([t.kill_reward for t in types]),
            attack_in_group=np.array([t.attack_in_group for t in types], dtype=bool),
            n_moves=np.array([len(t.move_offsets) for t in types], dtype=np.int64),
            n_actions=np.array([t.n_actions for t in types], dtype=np.int64),
            stay=np.array([t.stay for t in types], dtype=np.int64),
            action_dx=dx,
            action_dy=dy,
            hit_reward=hit,
            kill_bonus=kill,
            victim_reward=victim,
            joint_reward=joint,
            has_joint=bool(joint.any()),
            view_sizes=np.array([self.type_view_size(t) for t in types], dtype=np.int64),
            widths=np.array([t.width for t in types], dtype=np.int64),
        )

    def initial_layout(self, rng: np.random.Generator) -> tuple[np.ndarray | None, np.ndarray]:
        """``(walls, positions)`` of a new episode from ``generate_map(rng)``: the ``[H, W]`` wall map if
        the game draws its walls (a ``MapLayout``; else None: ``wall_map()``), and the ``[N, 2]`` start
        cells of every slot, checked against the counts."""
        layout = self.generate_map(rng)
        walls = None
        if isinstance(layout, MapLayout):
            walls = self.wall_map()
            cells = np.asarray(layout.walls, dtype=np.int64).reshape(-1, 2)
            walls[cells[:, 1], cells[:, 0]] = True
            layout = layout.groups
        cells = [np.asarray(c, dtype=np.int64).reshape(-1, 2) for c in layout]
        if [len(c) for c in cells] != list(self.counts):
            raise ValueError(f"{self.name}: generate_map gave {[len(c) for c in cells]} agents, expected {list(self.counts)}")
        return walls, (np.concatenate(cells) if cells else np.zeros((0, 2), dtype=np.int64))

    def initial_positions(self, rng: np.random.Generator) -> np.ndarray:
        """``[N, 2]`` start cells of every slot from ``generate_map(rng)`` (see ``initial_layout``)."""
        return self.initial_layout(rng)[1]

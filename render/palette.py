"""The one colour palette of every mfzoo drawing: colour-blind safe, dark background.

Data colours come from the Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design"), whose
eight colours stay distinct under deuteranopia, protanopia and tritanopia. Pairs that must never be
confused also differ in lightness, so they survive greyscale too:

* teams: vermillion (red team) vs blue (blue team), the usual colour-blind-safe stand-in for red/green;
* Ising spins: orange (+1) vs blue (-1), a light/dark pair;
* the G(x) markers: vermillion (current load x) vs bluish green (optimum x*).

Every colour is a plain ``(r, g, b)`` tuple of ints in ``0..255`` that pygame accepts directly; use
``lookup`` to stack colours into the ``[k, 3]`` uint8 table that ``render.canvas`` indexes.
"""

from __future__ import annotations

import numpy as np

Colour = tuple[int, int, int]

# -- Okabe-Ito base colours (names as in the original publication) ------------------------------
BLACK: Colour = (0, 0, 0)
ORANGE: Colour = (230, 159, 0)
SKY_BLUE: Colour = (86, 180, 233)
BLUISH_GREEN: Colour = (0, 158, 115)
YELLOW: Colour = (240, 228, 66)
BLUE: Colour = (0, 114, 178)
VERMILLION: Colour = (213, 94, 0)
REDDISH_PURPLE: Colour = (204, 121, 167)

# -- Neutrals: chrome of every frame -------------------------------------------------------------
BACKGROUND: Colour = (22, 24, 29)
"""Frame background and empty map cells."""
PANEL: Colour = (32, 35, 42)
"""Background of plot panels and the banner, a step lighter than ``BACKGROUND``."""
GRID: Colour = (52, 56, 66)
"""Grid lines between cells and plot axes' faint guides."""
AXIS: Colour = (140, 146, 158)
"""Plot axes and tick marks."""
TEXT: Colour = (236, 238, 242)
"""Primary text."""
MUTED_TEXT: Colour = (160, 166, 178)
"""Secondary text: axis labels, units."""
WALL: Colour = (118, 122, 132)
"""Battle walls (the outer ring and interior obstacles); grey, so it is never read as a team."""

# -- Teams (Battle) ------------------------------------------------------------------------------
RED_TEAM: Colour = VERMILLION
"""The red team (agents ``red_*``)."""
BLUE_TEAM: Colour = BLUE
"""The blue team (agents ``blue_*``)."""
TEAM_COLOURS: tuple[Colour, Colour] = (RED_TEAM, BLUE_TEAM)
"""Indexed by team id: 0 = red, 1 = blue."""
GROUP_COLOURS: dict[str, Colour] = {
    "red": RED_TEAM,
    "blue": BLUE_TEAM,
    "redmelee": VERMILLION,
    "redranged": ORANGE,
    "bluemelee": BLUE,
    "blueranged": SKY_BLUE,
    "deer": SKY_BLUE,
    "tiger": VERMILLION,
    "food": BLUISH_GREEN,
    "omnivore": ORANGE,
    "predator": VERMILLION,
    "prey": SKY_BLUE,
}
"""Gridworld groups by name: Battle's two teams; combined arms' four groups, warm for red's side and cool
for blue's, the darker of each pair melee and the lighter ranged (so the pairs also differ in greyscale);
tiger-deer's deer (light sky blue) and tigers (dark vermillion); gather's food (bluish green) and
omnivores (orange); adversarial pursuit's prey (light sky blue) and predators (dark vermillion)."""
ATTACK: Colour = YELLOW
"""Highlight of an attack (attacker-to-target mark); the lightest colour, visible on both teams."""
HP_FULL: Colour = BLUISH_GREEN
"""Filled part of an hp bar."""
HP_EMPTY: Colour = (70, 74, 84)
"""Missing part of an hp bar."""

# -- Ising ---------------------------------------------------------------------------------------
SPIN_UP: Colour = ORANGE
"""A +1 spin (action 1)."""
SPIN_DOWN: Colour = BLUE
"""A -1 spin (action 0)."""

# -- Gaussian Squeeze ----------------------------------------------------------------------------
BAR: Colour = SKY_BLUE
"""Histogram bars of the agents' actions."""
CURVE: Colour = TEXT
"""The reward curve G(x)."""
CURVE_FILL: Colour = (58, 64, 78)
"""Area under the reward curve."""
CURRENT: Colour = VERMILLION
"""Marker of the current value (the load x)."""
OPTIMUM: Colour = BLUISH_GREEN
"""Marker of the optimum (x*)."""


def lookup(*colours: Colour) -> np.ndarray:
    """Stack colours into a ``[len(colours), 3]`` uint8 table for ``table[index_array]`` lookups.

    Example:
        >>> lookup(SPIN_DOWN, SPIN_UP)[[1, 0]].tolist()
        [[230, 159, 0], [0, 114, 178]]
    """
    table = np.asarray(colours, dtype=np.int64)
    if table.ndim != 2 or table.shape[1] != 3 or table.size == 0:
        raise ValueError(f"lookup expects one or more (r, g, b) colours, got {colours!r}")
    if (table < 0).any() or (table > 255).any():
        raise ValueError(f"colour components must lie in 0..255, got {colours!r}")
    return table.astype(np.uint8)

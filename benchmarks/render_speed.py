"""Rendering speed: state frames per second (drawn and converted to an array), and what recording costs.

Frames: a state from the middle of a real battle (scripted red vs scripted blue, so attacks, wounds
and deaths are on the map) is drawn again and again with the environment's pure draw function and
turned into an ``[H, W, 3]`` uint8 array: what ``env.render()`` in ``rgb_array`` mode and every
recorded frame cost. Ising and Gaussian Squeeze rows give the other environments for reference.

Recording overhead: one ``mfzoo watch --record`` episode (64 v 64, uniform random policies on
both sides, ``WatchSession`` + ``record_episode``) against the same episode played without frames.

Run::

    python benchmarks/render_speed.py                 # about a minute
    python benchmarks/render_speed.py --quick         # a few seconds, for a smoke test
    python benchmarks/render_speed.py --update-benchmarks   # also rewrite BENCHMARKS.md's "Rendering" section
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pygame  # noqa: E402
from _timing import compare, machine_description, markdown_table  # noqa: E402

from mfagents.commands.watch import RECORD_FRAME_SIZE, WatchSession, record_episode  # noqa: E402
from render import battle, gaussian_squeeze, ising  # noqa: E402
from render.hud import Hud, compose_frame  # noqa: E402
from render.window import surface_to_array  # noqa: E402

SECTION = "## Rendering (issue 5)"
BENCHMARKS_MD = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"
MID_BATTLE_STEPS = 25
"""Steps of scripted vs scripted play before the timed battle state: the lines have met, attacks fly."""
RECORD_STEPS = 200
"""Steps of the recorded evaluation episode (64 v 64 battles last longer against random play)."""


def battle_state(map_size: int, seed: int = 0) -> WatchSession:
    """A battle after ``MID_BATTLE_STEPS`` steps of scripted vs scripted play."""
    session = WatchSession("battle", {"red": "scripted", "blue": "scripted"}, seed=seed, env_kwargs={"map_size": map_size})
    session.reset()
    for _ in range(MID_BATTLE_STEPS):
        session.step()
    return session


def frame_workload(draw, core, size: tuple[int, int], hud: Hud | None = None):
    """Draw ``core`` into a ``size`` surface (with the HUD strip if given) and convert it, 10 times per call."""
    surface = pygame.Surface(size)

    def workload() -> float:
        for _ in range(10):
            if hud is None:
                draw(core, surface)
            else:
                hud.update(core)
                compose_frame(surface, draw, core, hud)
            surface_to_array(surface)
        return 10

    return workload


def frame_rows(repeats: int, min_time: float) -> str:
    pygame.font.init()
    battle40 = battle_state(40)
    battle80 = battle_state(80)
    squeeze = WatchSession("gaussian_squeeze", {"all": "random"})
    squeeze.reset()
    squeeze.step()
    lattice = WatchSession("ising", {"all": "random"}, env_kwargs={"size": 64})
    lattice.reset()
    lattice.step()
    hud = Hud(battle40.policy_names)
    workloads = {
        "Battle 64 v 64 (map 40), 640 x 640": frame_workload(battle.draw, battle40.core, (640, 640)),
        "Battle 64 v 64 (map 40), 640 x 720 with HUD (recorded frame)": frame_workload(battle.draw, battle40.core, RECORD_FRAME_SIZE, hud),
        "Battle 64 v 64 (map 40), 1280 x 1280": frame_workload(battle.draw, battle40.core, (1280, 1280)),
        "Battle 256 v 256 (map 80), 640 x 640": frame_workload(battle.draw, battle80.core, (640, 640)),
        "Ising 64 x 64, 640 x 640": frame_workload(ising.draw, lattice.core, (640, 640)),
        "Gaussian Squeeze N = 1000, 640 x 640": frame_workload(gaussian_squeeze.draw, squeeze.core, (640, 640)),
    }
    results = compare(workloads, repeats=repeats, min_time=min_time)
    return markdown_table(results, units=dict.fromkeys(workloads, "frames/s"))


def play_only(steps: int, seed: int) -> float:
    """Seconds to play ``steps`` steps of the recorded episode without drawing anything."""
    session = WatchSession("battle", {"red": "random", "blue": "random"}, seed=seed, max_steps=steps)
    start = time.perf_counter()
    session.reset()
    while not session.done:
        session.step()
    return time.perf_counter() - start


def recording_rows(repeats: int, steps: int, seed: int = 0) -> str:
    """Play-only vs recorded (MP4, GIF) episodes, alternated ``repeats`` times; medians."""
    timings: dict[str, list[tuple[float, float, int]]] = {"no frames": [], "MP4": [], "GIF": []}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(repeats):
            timings["no frames"].append((play_only(steps, seed), 0.0, 0))
            for name, suffix in (("MP4", "mp4"), ("GIF", "gif")):
                session = WatchSession("battle", {"red": "random", "blue": "random"}, seed=seed, max_steps=steps)
                result = record_episode(session, Path(folder) / f"episode.{suffix}", fps=10)
                timings[name].append((result["play_s"], result["record_s"], result["frames"]))
    lines = [
        "| run | steps | frames | wall s | of which recording s | x the run without frames | recording cost per frame (end to end) |",
        "|---|---|---|---|---|---|---|",
    ]
    baseline = statistics.median(s[0] for s in timings["no frames"])
    for name, samples in timings.items():
        total = statistics.median(s[0] + s[1] for s in samples)
        record = statistics.median(s[1] for s in samples)
        frames = samples[0][2]
        per_frame = f"{1e3 * (total - baseline) / frames:.1f} ms" if frames else ""
        lines.append(f"| {name} | {steps} | {frames} | {total:.2f} | {record:.2f} | {total / baseline:.1f} | {per_frame} |")
    return "\n".join(lines)


def section(frames: str, recording: str, command: str, load: float, steps: int) -> str:
    return f"""{SECTION}

State frames per second: one mid-battle state (after {MID_BATTLE_STEPS} steps of scripted vs scripted play,
so hp gauges, attack lines and death marks are drawn) drawn by the environment's pure draw function
and converted to an `[H, W, 3]` uint8 array, as `env.render()` (`rgb_array`) and every recorded frame
do; the HUD row adds the scoreboard strip of `mfzoo watch` recordings. Single process, one core.

Command: `{command}`  
Date: {date.today().isoformat()}  
Machine: {machine_description()}; 1-minute load average {load:.1f} at start

{frames}

Recording overhead: one evaluation episode of `mfzoo watch battle --record` (64 v 64 on map 40,
uniform random policies on both sides, {steps} steps), played without frames and recorded to MP4
(H.264, frames streamed to ffmpeg) and GIF (encoded at the end). Median of the runs, alternated.
"of which recording" is the time in drawing, the HUD, conversion and encoding; the end-to-end cost per
frame also counts the play slowed down by ffmpeg encoding on the other core. Uniform random policies
are the cheapest there are, so this is the worst case for the share of recording.

{recording}

Notes:
- Drawing is 3-4 ms of a recorded 64 v 64 frame (the HUD strip about 1 ms of it); the rest of the MP4
  cost is ffmpeg's colour conversion and H.264 encoding (x264 preset `veryfast`: the default `medium`
  took 2.5x longer per frame for files 15 % smaller), which on 2 cores also slows the play down.
- Recording every state of a battle played by the cheapest policies is therefore several times slower
  than playing it. Evaluation itself (`mfzoo eval`, `mfzoo arena`) draws nothing; `mfzoo demo` records
  one episode after its evaluation rounds, and learned policies cost more per step than random ones.
- GIFs cost about 3x MP4 per frame (pillow quantises every frame at the end): use MP4 for long recordings.
"""


def update_benchmarks(text: str) -> None:
    """Replace the ``SECTION`` of BENCHMARKS.md (up to the next ``## `` heading) or append it."""
    content = BENCHMARKS_MD.read_text() if BENCHMARKS_MD.exists() else "# Benchmarks\n"
    start = content.find(SECTION)
    if start < 0:
        content = content.rstrip("\n") + "\n\n" + text
    else:
        end = content.find("\n## ", start + len(SECTION))
        content = content[:start] + text + ("" if end < 0 else content[end + 1 :])
    BENCHMARKS_MD.write_text(content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one short sample per workload (smoke test)")
    parser.add_argument("--update-benchmarks", action="store_true", help=f"rewrite the '{SECTION}' section of BENCHMARKS.md")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    load = os.getloadavg()[0]
    repeats, min_time, steps = (1, 0.2, 20) if args.quick else (5, 1.0, RECORD_STEPS)
    frames = frame_rows(repeats, min_time)
    print(frames)
    recording = recording_rows(1 if args.quick else 3, steps)
    print(recording)
    if args.update_benchmarks:
        command = "python benchmarks/render_speed.py" + (" --quick" if args.quick else "")
        update_benchmarks(section(frames, recording, command, load, steps))
        print(f"updated {BENCHMARKS_MD}")


if __name__ == "__main__":
    main()

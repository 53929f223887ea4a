"""What the evaluation panel costs next to training, on the default Battle setup (issue 23).

Trains ``mfzoo train battle --algo mfq`` (40 x 40, 64 v 64, self-play) for a few rounds with the panel off and
takes the time of a training round from ``perf/wall_time_s`` (the first round, whose replay is still filling,
left out). Then times one panel evaluation (``mfagents.evaluation.panel.EvalPanel``, the defaults: 10 greedy
rounds against each of ``random`` and ``scripted``) of two learners: the one just trained (it does not kill
yet, so its rounds against ``random`` last the full 400 steps: the slowest case) and the shipped ``zoo:mfq``
(250 rounds of training: wipe-outs end its rounds early). Prints the overhead for an evaluation every
``--every`` rounds. Not a CI test: about 3 minutes on one core.

    python benchmarks/eval_panel_cost.py --rounds 3 --every 50
"""

from __future__ import annotations

import argparse
import csv
import platform
import subprocess
import tempfile
import time
from pathlib import Path


def cpu_model() -> str:
    try:
        lines = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout.splitlines()
        return next(line.split(":", 1)[1].strip() for line in lines if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        return platform.processor() or "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="training rounds to time (the first is left out)")
    parser.add_argument("--every", type=int, default=50, help="rounds between evaluations, for the overhead")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    import mfagents
    from mfagents.common.pipeline import VecPipeline
    from mfagents.evaluation.panel import EvalPanel
    from mfagents.policies.specs import load_learner
    from mfagents.policies.zoo import zoo_path
    from mfagents.training.config import RunConfig, resolve
    from mfagents.training.loop import torch_threads

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "run"
        mfagents.train("battle", "mfq", seed=args.seed, rounds=args.rounds, out=out, eval_every=0, tensorboard=False)
        with open(out / "metrics.csv", newline="") as file:
            walls = [float(row["perf/wall_time_s"]) for row in csv.DictReader(file)]
        round_s = (walls[-1] - walls[0]) / (len(walls) - 1)

        run = resolve(RunConfig(env="battle", algo="mfq", seed=args.seed))
        panel = EvalPanel(run)
        pipeline = VecPipeline("battle", run.env_kwargs)
        learners = {
            f"trained {args.rounds} rounds (no kills yet)": load_learner(out, pipeline.observation_space, pipeline.n_actions)[0],
            "zoo:mfq (250 rounds)": load_learner(zoo_path("zoo:mfq"), pipeline.observation_space, pipeline.n_actions)[0],
        }
        print(f"CPU: {cpu_model()}; training: {round_s:.1f} s per round (rounds 2-{args.rounds} of {args.rounds}, 400 steps each)")
        print(f"| learner | panel s | {' | '.join(f'{name} win / kills' for name in panel.names)} | overhead every {args.every} rounds |")
        print("|---|---|" + "---|" * len(panel.names) + "---|")
        with torch_threads(1):
            for label, learner in learners.items():
                start = time.perf_counter()
                metrics = panel(learner)
                seconds = time.perf_counter() - start
                cells = " | ".join(f"{metrics[f'eval/{n}/win_rate']:.2f} / {metrics[f'eval/{n}/kills']:.1f} v {metrics[f'eval/{n}/opponent_kills']:.1f}" for n in panel.names)
                print(f"| {label} | {seconds:.1f} | {cells} | {100 * seconds / (args.every * round_s):.1f} % |")
        panel.close()


if __name__ == "__main__":
    main()

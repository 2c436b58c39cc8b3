"""Step-by-step comparison of the fast engine with the TextWorld engine on the official games.

A *trajectory* is one game played from reset with one command policy:

- ``walkthrough``: the game file's solving commands;
- ``perturbed``: the walkthrough with random detours (admissible or nonsense commands) slipped in,
  so goals are reached, left and reached again from unusual states;
- ``random``: uniform admissible commands mixed with nonsense (templated commands on the game's
  own names that are not applicable, ``help``, case and spacing variants, garbage).

The reference engine plays each trajectory and its outputs are recorded as a :class:`Trace`
(command, observation, admissible list, ``won``, ``done`` after every step; the reset is step 0).
The candidate then replays the same commands and every field is compared. Policies only read the
reference's outputs, so a recorded trace file can be replayed later without the reference installed
(``--traces``); that is also how hidden traces recorded elsewhere can be checked.

``main()`` is the command line (``python -m proxmo_bench.envs.alfworld.fast.equivalence -h``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO

from proxmo_bench.envs.alfworld.engine import Engine, EngineState, make_engine
from proxmo_bench.envs.alfworld.fast.engine import GAME_CACHE

FIELDS = ("obs", "admissible", "won", "done")
KINDS = ("walkthrough", "perturbed", "random")
_GAME_GLOB = "json_2.1.1/*/*/*/game.tw-pddl"
_GARBAGE = (
    "",
    "   ",
    "xyzzy",
    "LOOK",
    " look ",
    "Look",
    "inventory please",
    "go to",
    "take",
    "open",
    "go north",
    "put it down",
    "examine",
    "help me",
    "i",
)
_TEMPLATES_OR = ("go to {r}", "open {r}", "close {r}", "examine {r}")
_TEMPLATES_O = ("examine {o}", "use {o}", "take {o}", "drop {o}")
_TEMPLATES_OR2 = (
    "take {o} from {r}",
    "move {o} to {r}",
    "put {o} in {r}",
    "heat {o} with {r}",
    "cool {o} with {r}",
    "clean {o} with {r}",
    "slice {o} with {r}",
)


@dataclass
class Step:
    """One engine output: after reset (``command`` None) or after ``command``."""

    command: str | None
    obs: str
    won: bool
    done: bool
    admissible: list[str]

    @classmethod
    def of(cls, command: str | None, state: EngineState) -> Step:
        return cls(command, state.obs, state.won, state.done, list(state.admissible))


@dataclass
class Trace:
    """The reference's outputs along one trajectory of one game."""

    task_id: str  # "<split>/<task_dir>/<trial_dir>"
    kind: str
    seed: int
    steps: list[Step]

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> Trace:
        raw = json.loads(line)
        return cls(raw["task_id"], raw["kind"], raw["seed"], [Step(**s) for s in raw["steps"]])


@dataclass
class Mismatch:
    """A step where the candidate's ``field`` differs from the reference's."""

    task_id: str
    kind: str
    seed: int
    step: int
    command: str | None
    field: str
    reference: object
    candidate: object

    @property
    def difference_class(self) -> str:
        """``field:verb`` (``verb`` the command's first word, ``reset`` for the intro)."""
        verb = "reset" if self.command is None else (self.command.split() or ["<empty>"])[0]
        return f"{self.field}:{verb}"


@dataclass
class Timing:
    """Seconds one engine spent, per operation (one entry per call)."""

    load: list[float] = field(default_factory=list)
    reset: list[float] = field(default_factory=list)
    step: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        def mean(xs: list[float]) -> float:
            return sum(xs) / len(xs) if xs else float("nan")

        return {
            "load_ms": 1e3 * mean(self.load),
            "reset_ms": 1e3 * mean(self.reset),
            "step_ms": 1e3 * mean(self.step),
            "steps_per_s": len(self.step) / sum(self.step) if self.step else float("nan"),
            "n_loads": float(len(self.load)),
            "n_steps": float(len(self.step)),
        }


@dataclass
class Report:
    """Agreement per field over all compared steps, the mismatches, and the engines' timings."""

    n_trajectories: int = 0
    n_steps: int = 0  # compared states, resets included
    agree: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    trajectories_identical: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    reference_timing: Timing = field(default_factory=Timing)
    candidate_timing: Timing = field(default_factory=Timing)
    won_trajectories: int = 0

    def rate(self, name: str) -> float:
        return self.agree[name] / self.n_steps if self.n_steps else float("nan")

    def difference_classes(self) -> dict[str, list[Mismatch]]:
        classes: dict[str, list[Mismatch]] = {}
        for m in self.mismatches:
            classes.setdefault(m.difference_class, []).append(m)
        return dict(sorted(classes.items(), key=lambda kv: -len(kv[1])))

    def meets_targets(self, obs_target: float = 0.995) -> bool:
        """100% admissible, won and done; observations at least ``obs_target``."""
        exact = all(self.agree[f] == self.n_steps for f in ("admissible", "won", "done"))
        return exact and self.rate("obs") >= obs_target

    def to_dict(self) -> dict[str, object]:
        return {
            "n_trajectories": self.n_trajectories,
            "n_steps": self.n_steps,
            "won_trajectories": self.won_trajectories,
            "trajectories_identical": self.trajectories_identical,
            "agreement": {f: self.rate(f) for f in FIELDS},
            "difference_classes": {
                k: {"count": len(v), "example": asdict(v[0])}
                for k, v in self.difference_classes().items()
            },
            "reference_timing": self.reference_timing.summary(),
            "candidate_timing": self.candidate_timing.summary(),
        }

    def render(self) -> str:
        lines = [
            f"trajectories: {self.n_trajectories} (identical: {self.trajectories_identical}, "
            f"reference won: {self.won_trajectories}); compared states: {self.n_steps}",
        ]
        for f in FIELDS:
            lines.append(f"  {f:<11} {self.agree[f]:>7}/{self.n_steps}  {100 * self.rate(f):8.3f}%")
        classes = self.difference_classes()
        if classes:
            lines.append("difference classes (field:verb  count  first example):")
            for name, items in classes.items():
                m = items[0]
                lines.append(
                    f"  {name:<24} {len(items):>5}  {m.task_id} [{m.kind} seed {m.seed}] step "
                    f"{m.step} {m.command!r}: reference={_short(m.reference)} "
                    f"candidate={_short(m.candidate)}"
                )
        else:
            lines.append("no differences")
        return "\n".join(lines)


def _short(value: object, width: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


# ---- games ---------------------------------------------------------------------------------------
def default_data_dir() -> Path | None:
    """``$ALFWORLD_DATA`` when set, else None."""
    value = os.environ.get("ALFWORLD_DATA")
    return Path(value) if value else None


def official_games(data_dir: Path, split: str | None = None) -> list[Path]:
    """The ``game.tw-pddl`` files under ``data_dir/json_2.1.1`` (one split or all), sorted."""
    games = sorted(Path(data_dir).glob(_GAME_GLOB))
    if split is not None:
        games = [g for g in games if g.parts[-4] == split]
    return games


def task_id_of(game_file: Path) -> str:
    """``"<split>/<task_dir>/<trial_dir>"`` of a game file under ``json_2.1.1``."""
    parts = Path(game_file).parts
    return "/".join(parts[-4:-1])


def sample_games(games: Sequence[Path], n: int, seed: int) -> list[Path]:
    """``n`` games drawn without replacement by ``seed`` (all when ``n`` >= their number)."""
    if n >= len(games):
        return list(games)
    return sorted(random.Random(seed).sample(list(games), n))


# ---- command policies ----------------------------------------------------------------------------
class _Vocabulary:
    """Names seen in the reference's admissible commands (receptacles and objects)."""

    def __init__(self) -> None:
        self.receptacles: set[str] = set()
        self.objects: set[str] = set()

    def learn(self, admissible: Iterable[str]) -> None:
        for cmd in admissible:
            if cmd.startswith("go to "):
                self.receptacles.add(cmd[6:])
            elif cmd.startswith("take ") and " from " in cmd:
                obj, _, rec = cmd[5:].partition(" from ")
                self.objects.add(obj)
                self.receptacles.add(rec)


def nonsense(rng: random.Random, vocab: _Vocabulary) -> str:
    """A command that is usually not admissible: garbage, ``help``, or a template on real names."""
    receptacles, objects = sorted(vocab.receptacles), sorted(vocab.objects)
    roll = rng.random()
    if roll < 0.15 or not receptacles:
        return rng.choice(_GARBAGE)
    if roll < 0.25:
        return "help"
    r = rng.choice(receptacles)
    if roll < 0.45 or not objects:
        return rng.choice(_TEMPLATES_OR).format(r=r)
    o = rng.choice(objects)
    if roll < 0.6:
        return rng.choice(_TEMPLATES_O).format(o=o)
    return rng.choice(_TEMPLATES_OR2).format(o=o, r=r)


Policy = Callable[[int, Step], str | None]  # (step index, last reference output) -> next command


def make_policy(
    kind: str,
    walkthrough: Sequence[str],
    seed: int,
    steps: int,
    nonsense_rate: float = 0.2,
    detour_rate: float = 0.25,
    go_to_rate: float = 0.35,
) -> Policy:
    """The command policy of one trajectory; it returns None to end the trajectory."""
    rng = random.Random(seed)
    vocab = _Vocabulary()
    queue = list(walkthrough)

    def random_command(last: Step) -> str:
        if rng.random() < nonsense_rate or not last.admissible:
            return nonsense(rng, vocab)
        # "go to" commands are most of every list; drawing them less often than their share keeps
        # the walks interacting with what they find (open, take, move, heat, slice, ...).
        moves = [c for c in last.admissible if c.startswith("go to ")]
        others = [c for c in last.admissible if not c.startswith("go to ")]
        if moves and (not others or rng.random() < go_to_rate):
            return rng.choice(moves)
        return rng.choice(others)

    def policy(i: int, last: Step) -> str | None:
        vocab.learn(last.admissible)
        if kind == "walkthrough":
            return queue[i] if i < len(queue) else None
        if i >= steps:
            return None
        if kind == "perturbed":
            if queue and rng.random() >= detour_rate:
                return queue.pop(0)
            return random_command(last)
        if kind == "random":
            return random_command(last)
        raise ValueError(f"unknown trajectory kind {kind!r}; known: {KINDS}")

    return policy


# ---- playing and comparing -----------------------------------------------------------------------
def play(
    engine: Engine,
    game_file: Path,
    kind: str,
    seed: int,
    steps: int,
    walkthrough: Sequence[str],
    timing: Timing | None = None,
) -> Trace:
    """Play one trajectory on ``engine`` (the reference) and record its outputs."""
    timing = timing if timing is not None else Timing()
    policy = make_policy(kind, walkthrough, seed, steps)
    t0 = time.perf_counter()
    state = engine.reset()
    timing.reset.append(time.perf_counter() - t0)
    record = [Step.of(None, state)]
    i = 0
    while (command := policy(i, record[-1])) is not None:
        t0 = time.perf_counter()
        state = engine.step(command)
        timing.step.append(time.perf_counter() - t0)
        record.append(Step.of(command, state))
        i += 1
    return Trace(task_id_of(game_file), kind, seed, record)


def compare(trace: Trace, engine: Engine, report: Report, timing: Timing | None = None) -> None:
    """Replay ``trace``'s commands on ``engine`` (loaded with the trace's game) into ``report``."""
    timing = timing if timing is not None else report.candidate_timing
    identical = True
    for i, ref in enumerate(trace.steps):
        t0 = time.perf_counter()
        state = engine.reset() if ref.command is None else engine.step(ref.command)
        (timing.reset if ref.command is None else timing.step).append(time.perf_counter() - t0)
        got = Step.of(ref.command, state)
        report.n_steps += 1
        for name in FIELDS:
            want, have = getattr(ref, name), getattr(got, name)
            if want == have:
                report.agree[name] += 1
            else:
                identical = False
                report.mismatches.append(
                    Mismatch(
                        trace.task_id, trace.kind, trace.seed, i, ref.command, name, want, have
                    )
                )
    report.n_trajectories += 1
    report.trajectories_identical += int(identical)
    report.won_trajectories += int(any(s.won for s in trace.steps))


def _timed_load(engine: Engine, game_file: Path, timing: Timing, cold: bool) -> None:
    if cold:
        GAME_CACHE.clear()
    t0 = time.perf_counter()
    engine.load(game_file)
    timing.load.append(time.perf_counter() - t0)


def trajectory_plan(random_walks: int, seed: int) -> list[tuple[str, int]]:
    """The ``(kind, seed)`` of the trajectories played on each game."""
    plan = [("walkthrough", 0), ("perturbed", seed)]
    plan += [("random", seed + k) for k in range(random_walks)]
    return plan


def run_live(
    games: Sequence[Path],
    data_dir: Path,
    *,
    random_walks: int = 2,
    steps: int = 25,
    seed: int = 0,
    reference: str = "textworld",
    candidate: str = "fast",
    on_trace: Callable[[Trace], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Play every game with both engines (same commands) and compare them step by step.

    ``on_trace`` receives each reference trace as soon as it is played (e.g. to save it).
    """
    report = Report()
    ref_engine, cand_engine = make_engine(reference), make_engine(candidate)
    try:
        for n, game in enumerate(games):
            walkthrough = _walkthrough(game)
            _timed_load(ref_engine, game, report.reference_timing, cold=False)
            _timed_load(cand_engine, game, report.candidate_timing, cold=True)
            for kind, traj_seed in trajectory_plan(random_walks, seed + 1000 * n):
                trace = play(
                    ref_engine, game, kind, traj_seed, steps, walkthrough, report.reference_timing
                )
                if on_trace is not None:
                    on_trace(trace)
                compare(trace, cand_engine, report)
            if progress is not None:
                progress(n + 1, len(games))
    finally:
        ref_engine.close()
        cand_engine.close()
    return report


def run_traces(traces: Iterable[Trace], data_dir: Path, candidate: str = "fast") -> Report:
    """Replay recorded reference traces on the candidate engine (no reference engine needed)."""
    report = Report()
    engine = make_engine(candidate)
    try:
        for trace in traces:
            game = Path(data_dir) / "json_2.1.1" / trace.task_id / "game.tw-pddl"
            _timed_load(engine, game, report.candidate_timing, cold=False)
            compare(trace, engine, report)
    finally:
        engine.close()
    return report


def _walkthrough(game_file: Path) -> list[str]:
    data = json.loads(Path(game_file).read_text(encoding="utf-8"))
    return [str(c) for c in data.get("walkthrough") or []]


class TraceWriter:
    """Appends traces to a JSON-lines file (gzipped when its name ends in ``.gz``), flushing each.

    Call :meth:`close` when done (the file stays open between traces so a long run saves each
    trajectory as soon as it is played).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fh: IO[str] = (
            gzip.open(self.path, "wt", encoding="utf-8")  # noqa: SIM115 (closed by close())
            if self.path.suffix == ".gz"
            else open(self.path, "w", encoding="utf-8")  # noqa: SIM115 (closed by close())
        )

    def __call__(self, trace: Trace) -> None:
        self._fh.write(trace.to_json() + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()


def write_traces(path: Path, traces: Iterable[Trace]) -> None:
    """Write traces as JSON lines (gzipped when the name ends in ``.gz``)."""
    writer = TraceWriter(path)
    try:
        for trace in traces:
            writer(trace)
    finally:
        writer.close()


def read_traces(path: Path) -> list[Trace]:
    """Read traces written by :func:`write_traces` (gzipped or plain JSON lines)."""
    if str(path).endswith(".gz"):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return [Trace.from_json(line) for line in fh if line.strip()]
    with open(path, encoding="utf-8") as fh:
        return [Trace.from_json(line) for line in fh if line.strip()]


# ---- command line --------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m proxmo_bench.envs.alfworld.fast.equivalence",
        description="Compare the fast ALFWorld engine with the TextWorld engine, step by step.",
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        default=default_data_dir(),
        help="folder holding json_2.1.1/ (default: $ALFWORLD_DATA)",
    )
    p.add_argument("--split", default=None, help="only games of this split (default: all)")
    p.add_argument("--games", type=int, default=20, help="number of games sampled (default 20)")
    p.add_argument(
        "--random-walks",
        type=int,
        default=2,
        help="random trajectories per game, besides walkthrough + perturbed (default 2)",
    )
    p.add_argument("--steps", type=int, default=25, help="length of random/perturbed walks")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--record", type=Path, default=None, help="write the reference traces here")
    p.add_argument(
        "--traces",
        type=Path,
        default=None,
        help="replay these recorded traces instead of running the reference engine",
    )
    p.add_argument("--json", type=Path, default=None, help="write the report as JSON here")
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 unless admissible/won/done agree 100%% and observations >= 99.5%%",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.data_dir is None:
        print("no data folder: pass --data-dir or set ALFWORLD_DATA", file=sys.stderr)
        return 2
    if args.traces is not None:
        report = run_traces(read_traces(args.traces), args.data_dir)
    else:
        games = sample_games(official_games(args.data_dir, args.split), args.games, args.seed)
        if not games:
            print(f"no game files under {args.data_dir}/{_GAME_GLOB}", file=sys.stderr)
            return 2
        writer = TraceWriter(args.record) if args.record is not None else None
        try:
            report = run_live(
                games,
                args.data_dir,
                random_walks=args.random_walks,
                steps=args.steps,
                seed=args.seed,
                on_trace=writer,
                progress=lambda n, total: print(f"\r{n}/{total} games", end="", file=sys.stderr),
            )
        finally:
            if writer is not None:
                writer.close()
        print(file=sys.stderr)
    print(report.render())
    if args.json is not None:
        args.json.write_text(json.dumps(report.to_dict(), indent=2, default=str))
    return 1 if args.strict and not report.meets_targets() else 0


if __name__ == "__main__":
    raise SystemExit(main())

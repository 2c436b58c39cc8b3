"""``proxmo-bench`` command line: tasks, play, estimators, data, training, benchmarks, leaderboard.

A user mistake (an unknown id, a bad option value, a missing file or data set) ends the command
with one line on stderr, naming what was wrong and what is accepted, and a non-zero exit; the
global ``--debug`` flag shows the traceback instead.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

try:  # typer 0.2x runs on its own copy of click; older ones on click itself
    from typer import _click as click
except ImportError:  # pragma: no cover
    import click  # type: ignore[no-redef]

if TYPE_CHECKING:
    from proxmo_bench.tasks import TaskSpec


@dataclass
class _GlobalOptions:
    """The app's own flags (set by the callback before any command runs)."""

    debug: bool = False


_options = _GlobalOptions()

#: Exceptions that are a user's mistake or the machine's state, not a bug: their message is shown
#: alone. Others are shown with their type and the hint that ``--debug`` gives the traceback.
_USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, LookupError, OSError, ImportError)


def error_line(exc: BaseException) -> str:
    """The one line a user sees for ``exc`` (no traceback)."""
    if isinstance(exc, KeyError) and len(exc.args) == 1 and isinstance(exc.args[0], str):
        message = exc.args[0]  # str(KeyError) adds quotes
    elif isinstance(exc, OSError) and exc.strerror and exc.filename:
        message = f"{exc.strerror}: {exc.filename}"
    else:
        message = str(exc) or type(exc).__name__
    message = " ".join(message.split())
    if not isinstance(exc, _USER_ERRORS):
        message = f"{type(exc).__name__}: {message} (--debug shows the traceback)"
    return message


def _print_error(message: str) -> None:
    Console(stderr=True).print(
        "[red]error:[/red] " + escape(message), highlight=False, soft_wrap=True
    )


class UserError(Exception):
    """A mistake in what the user asked for: printed as one ``error:`` line, exit code 2."""


class _App(TyperGroup):
    """The root group: turns any error a command raises into one line (or, with ``--debug``,
    lets the traceback through)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except (typer.Exit, typer.Abort):
            raise
        except (UserError, click.exceptions.UsageError) as exc:
            if _options.debug:
                raise
            message = str(exc)
            if isinstance(exc, click.exceptions.UsageError):
                where = exc.ctx.command_path if exc.ctx is not None else ctx.command_path
                message = f"{exc.format_message()} ({where} --help shows the usage)"
            _print_error(" ".join(message.split()))
            raise typer.Exit(2) from None
        except click.exceptions.ClickException:
            raise
        except Exception as exc:
            if _options.debug:
                raise
            _print_error(error_line(exc))
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=_App,
    help="Multi-turn text environments for LLM agents and an RL benchmark harness "
    "(GRPO, GiGPO, ProxMO).",
    no_args_is_help=True,
    add_completion=False,
)
tasks_app = typer.Typer(help="Registered tasks.", no_args_is_help=True)
estimators_app = typer.Typer(help="Advantage estimators.", no_args_is_help=True)
data_app = typer.Typer(
    help="Upstream data sets (the default generated sources need none).", no_args_is_help=True
)
webshop_app = typer.Typer(help="WebShop tools.", no_args_is_help=True)
app.add_typer(tasks_app, name="tasks")
app.add_typer(estimators_app, name="estimators")
app.add_typer(data_app, name="data")
app.add_typer(webshop_app, name="webshop")
leaderboard_app = typer.Typer(
    help="Validate, verify, submit and render leaderboard submissions.", no_args_is_help=True
)
app.add_typer(leaderboard_app, name="leaderboard")
alfworld_app = typer.Typer(help="ALFWorld tools.", no_args_is_help=True)
app.add_typer(alfworld_app, name="alfworld")
console = Console()


def _show_version(value: bool) -> None:
    if value:
        from proxmo_bench import __version__

        print(f"proxmo-bench {__version__}")
        raise typer.Exit()


@app.callback()
def _app_options(
    debug: Annotated[
        bool, typer.Option("--debug", help="show the full traceback of an error")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_show_version, help="print the version and exit"
        ),
    ] = False,
) -> None:
    _options.debug = debug


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean X?"`` for the choice closest to ``word`` (difflib), or ``""``."""
    options = list(choices)
    lowered = {c.lower(): c for c in options}
    if word.lower() in lowered:
        return f"; did you mean {lowered[word.lower()]}?"
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def _accepted(choices: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(choices[:limit])
    return shown + (f", ... ({len(choices)} in all)" if len(choices) > limit else "")


def task_spec(task: str) -> TaskSpec:
    """The registered spec of ``task``, or a :class:`UserError` naming the registered ids."""
    from proxmo_bench.tasks import ENTRY_POINT_GROUP, get_task_spec, list_tasks

    try:
        return get_task_spec(task)
    except KeyError:
        ids = [spec.id for spec in list_tasks()]
        raise UserError(
            f"task {task!r} is not registered{did_you_mean(task, ids)} (registered: "
            f"{', '.join(ids)}; third-party tasks register through the entry point group "
            f"{ENTRY_POINT_GROUP!r})"
        ) from None


def check_make_kwargs(spec: TaskSpec, kwargs: dict[str, Any]) -> None:
    """:class:`UserError` for a ``make()`` argument the task's constructor does not take (when its
    signature can say: one that takes ``**kwargs`` accepts anything) or an unknown split."""
    import inspect

    from gymnasium.envs.registration import load_env_creator

    split = kwargs.get("split")
    if split is not None and split not in spec.splits:
        raise UserError(
            f"{spec.id} has no split {split!r}{did_you_mean(str(split), spec.splits)} "
            f"(splits: {', '.join(spec.splits)})"
        )
    try:
        creator = (
            spec.entry_point if callable(spec.entry_point) else load_env_creator(spec.entry_point)
        )
        params = inspect.signature(creator).parameters
    except (ImportError, AttributeError, TypeError, ValueError):
        return  # make() itself reports an entry point that does not load
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    accepted = sorted(
        k for k, p in params.items() if p.kind is not inspect.Parameter.VAR_POSITIONAL
    )
    for key in kwargs:
        if key not in params:
            raise UserError(
                f"{spec.id} takes no make() argument {key!r}{did_you_mean(key, accepted)} "
                f"(--kw accepts: {', '.join(accepted)})"
            )


def _print_rows(
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    numeric: Sequence[str] = (),
) -> None:
    """A table when it fits the terminal without splitting a word, else one block per row
    (first cell as the heading, then ``header: value`` lines), wrapped at word boundaries."""
    # The narrowest the table gets without cutting a word: each column as wide as its longest
    # word, plus a space either side and a rule per column (and one closing rule).
    longest = [
        max(len(word) for cell in (header, *(row[i] for row in rows)) for word in cell.split())
        for i, header in enumerate(headers)
    ]
    room = console.width - 3 * len(headers) - 1 - sum(longest)
    if room >= 0:
        # Each column gets its longest word; the room left is shared fairly (max-min) by what
        # each column's longest cell wants more, the smallest wants served in full first.
        widest = [
            max(len(cell) for cell in (header, *(row[i] for row in rows)))
            for i, header in enumerate(headers)
        ]
        wants = [w - base for w, base in zip(widest, longest, strict=True)]
        extra = [0] * len(wants)
        order = sorted(range(len(wants)), key=wants.__getitem__)
        for k, i in enumerate(order):
            extra[i] = min(wants[i], room // (len(order) - k))
            room -= extra[i]
        table = Table(title=title)
        for header, base, more in zip(headers, longest, extra, strict=True):
            if header in numeric:
                table.add_column(header, justify="right", width=base + more)
            else:
                table.add_column(header, width=base + more)
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))
        console.print(table)
        return
    console.print(Text(title, style="bold"))
    for row in rows:
        console.print(Text(row[0], style="bold cyan"))
        for header, cell in zip(headers[1:], row[1:], strict=True):
            if cell:
                line = Text.assemble((f"{header}: ", "dim"), cell)
                console.print(Padding(line, (0, 0, 0, 4), expand=False))


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=repr))


_RST_ROLE = re.compile(r":[a-z:]+:`~?([^`<]+?)(?:\s*<[^>]*>)?`")


def plain_text(rest: str) -> str:
    """reST inline markup as plain text: ``` ``x`` ``` -> ``x``, ``:class:`~a.B``` -> ``B``."""

    def role(match: re.Match[str]) -> str:
        return match.group(1).rsplit(".", 1)[-1] if "~" in match.group(0) else match.group(1)

    return _RST_ROLE.sub(role, rest).replace("``", "")


def parse_kwargs(pairs: list[str]) -> dict[str, Any]:
    """``key=value`` pairs, parsed by the one rule of every command (values as YAML, as --set)."""
    from proxmo_bench.training.config import ConfigError, apply_overrides

    try:
        return apply_overrides({}, pairs, model="make()")
    except ConfigError as exc:
        raise typer.BadParameter(str(exc)) from None


_JSON_OPTION = typer.Option("--json", help="print JSON instead of a table")


@tasks_app.command("list")
def tasks_list(as_json: Annotated[bool, _JSON_OPTION] = False) -> None:
    """List registered tasks (built-in and from the 'proxmo_bench.tasks' entry-point group)."""
    from proxmo_bench.tasks import list_tasks

    specs = list_tasks()
    if as_json:
        _print_json(
            [
                {
                    "id": spec.id,
                    "splits": list(spec.splits),
                    "categories": list(spec.categories),
                    "max_episode_steps": spec.max_episode_steps,
                    "reward_scale": spec.reward_scale,
                    "source": spec.source,
                    "description": spec.description,
                    "data_env_var": spec.data_env_var,
                    "has_expert": spec.expert is not None,
                }
                for spec in specs
            ]
        )
        return
    _print_rows(
        "proxmo-bench tasks",
        ("id", "max steps", "reward", "splits", "categories", "from", "description"),
        [
            (
                spec.id,
                str(spec.max_episode_steps),
                f"{spec.reward_scale:g}",
                ", ".join(spec.splits),
                ", ".join(spec.categories),
                spec.source,
                spec.description,
            )
            for spec in specs
        ],
        numeric=("max steps", "reward"),
    )


@tasks_app.command("check")
def tasks_check(
    task: Annotated[str, typer.Argument(help="registered task id, e.g. proxmo/KeyRoom-v0")],
    kw: Annotated[
        list[str] | None, typer.Option("--kw", help="make() argument key=value (repeatable)")
    ] = None,
    seeds: Annotated[str, typer.Option(help="comma-separated seeds of the seeded checks")] = "0,1",
) -> None:
    """Run the conformance checks (conformance.check_task) on a task; a failure names the check
    and the last action stepped."""
    from proxmo_bench.conformance import ConformanceError, check_task

    spec = task_spec(task)
    kwargs = parse_kwargs(kw or [])
    check_make_kwargs(spec, kwargs)
    seed_list = _seeds(seeds)

    def passed(name: str) -> None:
        console.print(f"[green]ok[/green]    {escape(name)}", highlight=False)

    try:
        check_task(task, make_kwargs=kwargs, seeds=seed_list, on_pass=passed)
    except ConformanceError as exc:
        console.print(f"[red]FAIL[/red]  {escape(exc.check)}", highlight=False)
        console.print(f"      {escape(' '.join(exc.message.split()))}", highlight=False)
        if exc.action is not None:
            console.print(f"      last action stepped: {escape(repr(exc.action)[:200])}")
        raise typer.Exit(1) from None
    console.print(f"[green]{escape(task)} passes every conformance check[/green]")


@app.command()
def play(
    task: Annotated[str, typer.Argument(help="registered task id, e.g. proxmo/ALFWorld-v0")],
    split: Annotated[str | None, typer.Option(help="data split")] = None,
    seed: Annotated[
        int | None, typer.Option(min=0, help="seed for reset (chooses the task); 0 or more")
    ] = None,
    task_id: Annotated[
        str | None, typer.Option("--task-id", help="a specific task instance, e.g. train/0")
    ] = None,
    kw: Annotated[
        list[str] | None, typer.Option("--kw", help="extra make() argument key=value")
    ] = None,
) -> None:
    """Play a task in the terminal: type an action, or the number of an admissible action.

    ':q' quits, ':r' restarts, ':policy' shows the task and its policy again, ':send TEXT' sends
    TEXT as it is, ':h' helps. Empty lines, numbers outside the list and malformed tool calls
    are asked again without using a step.
    """
    from proxmo_bench.env import list_task_ids
    from proxmo_bench.harness.play import TerminalGame
    from proxmo_bench.tasks import make

    spec = task_spec(task)
    kwargs = parse_kwargs(kw or [])
    if split is not None:
        kwargs["split"] = split
    check_make_kwargs(spec, kwargs)
    env = make(task, **kwargs)
    try:
        if task_id is not None:
            chosen_split = str(getattr(env.unwrapped, "split", "") or "")
            known = list_task_ids(env, chosen_split) if chosen_split else None
            if known is not None and task_id not in known and "/" not in task_id:
                raise UserError(
                    f"{task} has no task id {task_id!r}{did_you_mean(task_id, known)} (ids of "
                    f"split {chosen_split!r}: {_accepted(known)})"
                )
        options = {"task_id": task_id} if task_id else None
        TerminalGame(
            env,
            console=console,
            max_steps=spec.max_episode_steps,
            seed=seed,
            options=options,
        ).run()
    finally:
        env.close()


@estimators_app.command("list")
def estimators_list(as_json: Annotated[bool, _JSON_OPTION] = False) -> None:
    """List advantage estimators with their parameters and defaults."""
    from proxmo_bench.estimators import estimator_params, list_estimators

    described = {name: plain_text(doc) for name, doc in list_estimators().items()}
    if as_json:
        _print_json(
            [
                {"name": name, "parameters": estimator_params(name), "description": doc}
                for name, doc in described.items()
            ]
        )
        return
    _print_rows(
        "advantage estimators",
        ("name", "description", "parameters (defaults)"),
        [
            (
                name,
                doc,
                ", ".join(f"{k}={v!r}" for k, v in estimator_params(name).items()),
            )
            for name, doc in described.items()
        ],
    )


@data_app.command("fetch")
def data_fetch(
    name: Annotated[str, typer.Argument(help="data set: alfworld or webshop")],
    dest: Annotated[str, typer.Option(help="target folder")] = "data",
    accept_license: Annotated[
        bool, typer.Option("--accept-license", help="accept the data set's licence (WebShop)")
    ] = False,
    subset: Annotated[str, typer.Option(help="webshop: small (1,000 products) or all")] = "small",
    sha256: Annotated[str | None, typer.Option(help="alfworld: expected archive SHA-256")] = None,
) -> None:
    """Download an official data set into DEST and print its SHA-256 sums."""
    fetchers = {"alfworld", "webshop"}
    if name not in fetchers:
        console.print(f"[red]unknown data set {name!r}; available: {sorted(fetchers)}[/red]")
        raise typer.Exit(2)
    if name == "alfworld":
        from proxmo_bench.envs.alfworld.download import fetch_official

        try:
            n_games, digest = fetch_official(dest, expected_sha256=sha256)
        except (OSError, ValueError) as exc:
            console.print(f"[red]download failed: {exc}[/red]")
            raise typer.Exit(1) from None
        console.print(f"{n_games} games; archive SHA-256 {digest}")
        console.print(f"set ALFWORLD_DATA={dest} to use them (source='official')")
        return
    from proxmo_bench.envs.webshop.fetch import fetch_webshop

    try:
        digests = fetch_webshop(
            dest, accept_license=accept_license, subset=subset, echo=console.print
        )
    except PermissionError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    except (OSError, ValueError) as exc:
        console.print(f"[red]download failed: {exc}[/red]")
        raise typer.Exit(1) from None
    for file, digest in digests.items():
        console.print(f"{digest}  {file}")
    console.print(f"set WEBSHOP_DATA={dest} to use it (source='official')")


@webshop_app.command("serve")
def webshop_serve(
    port: Annotated[int, typer.Option(help="port on 127.0.0.1")] = 8000,
    split: Annotated[str, typer.Option(help="goal split")] = "test",
    source: Annotated[str, typer.Option(help="generated or official")] = "generated",
    data_dir: Annotated[str | None, typer.Option(help="official data folder")] = None,
) -> None:
    """Serve the WebShop state machine as HTML on http://127.0.0.1:PORT for a person to shop."""
    from proxmo_bench.envs.webshop.server import serve

    kwargs: dict[str, Any] = {"split": split, "source": source}
    if data_dir:
        kwargs["data_dir"] = data_dir
    console.print(f"WebShop on http://127.0.0.1:{port}/ (Ctrl-C to stop)")
    serve("127.0.0.1", port, **kwargs)


def _field_help(name: str) -> str:
    """A TrainConfig field's description (the CLI's help text comes from the config model)."""
    from proxmo_bench.training.config import TrainConfig

    return " ".join((TrainConfig.model_fields[name].description or "").split())


def _train_help() -> str:
    return (
        "Train an agent with PPO-clip and any estimator.\n\n"
        "Settings come from, in order: TrainConfig's defaults; --preset NAME or FILE (or, with "
        "--resume and no preset, the run's own config.yaml); the shortcut flags; then --set "
        "KEY=VALUE overrides in order. Values are YAML (1e-3, null, [pick, look], {a: 1}); dotted "
        "keys set nested fields (--set estimator.gamma=0.9, --set env_kwargs.difficulty=1). "
        "`proxmo-bench config fields` lists every field.\n\n"
        "--resume continues the run in --out from its checkpoint; the resolved config must equal "
        "the checkpoint's (out_dir, progress and tensorboard aside), or the run stops with the "
        "list of changed fields; --allow-config-change applies such a change and records it in "
        "the run's config_changes.jsonl."
    )


def _shortcut_overrides(values: dict[str, str | None]) -> list[str]:
    """``--lr 3e-4`` -> ``lr=3e-4`` (``--estimator NAME`` replaces the estimator section)."""
    return [f"{k}={v}" for k, v in values.items() if v is not None]


def _config_error(exc: Exception) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


@app.command(help=_train_help())
def train(
    preset: Annotated[
        str | None,
        typer.Option(help="a preset (proxmo-bench config presets) or a YAML file of fields"),
    ] = None,
    config: Annotated[
        str | None, typer.Option("--config", help="a YAML file of fields (same as --preset FILE)")
    ] = None,
    out: Annotated[str | None, typer.Option("--out", help=_field_help("out_dir"))] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="continue the run in --out from its checkpoint")
    ] = False,
    allow_config_change: Annotated[
        bool,
        typer.Option(
            "--allow-config-change",
            help="with --resume: continue under a config that differs from the checkpoint's "
            "(recorded in the run's config_changes.jsonl); without it a difference is an error",
        ),
    ] = False,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="clear the run already in --out and start afresh (without it, or --resume, a "
            "folder holding a run is refused)",
        ),
    ] = False,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="KEY=VALUE", help="override a field (repeatable)"),
    ] = None,
    task: Annotated[str | None, typer.Option(help=_field_help("task"))] = None,
    agent: Annotated[str | None, typer.Option(help=_field_help("agent"))] = None,
    model: Annotated[str | None, typer.Option(help=_field_help("model"))] = None,
    estimator: Annotated[
        str | None,
        typer.Option(help="estimator name (= --set estimator=NAME: the section at its defaults)"),
    ] = None,
    updates: Annotated[str | None, typer.Option(help=_field_help("updates"))] = None,
    seed: Annotated[str | None, typer.Option(help=_field_help("seed"))] = None,
    lr: Annotated[str | None, typer.Option(help=_field_help("lr"))] = None,
    device: Annotated[str | None, typer.Option(help=_field_help("device"))] = None,
    env_backend: Annotated[str | None, typer.Option(help=_field_help("env_backend"))] = None,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="no progress bar")] = False,
    print_config: Annotated[
        bool, typer.Option("--print-config", help="print the resolved config and exit")
    ] = False,
) -> None:
    from pathlib import Path

    from proxmo_bench.training.config import ConfigError, load_config

    if preset and config:
        raise _config_error(ValueError("give --preset or --config, not both"))
    if allow_config_change and not resume:
        raise _config_error(ValueError("--allow-config-change applies only with --resume"))
    if overwrite and resume:
        raise _config_error(
            ValueError("--overwrite clears the run and --resume continues it: give one")
        )
    source: str | None = preset or config
    overrides = _shortcut_overrides(
        {
            "task": task,
            "agent": agent,
            "model": model,
            "estimator": estimator,
            "updates": updates,
            "seed": seed,
            "lr": lr,
            "device": device,
            "env_backend": env_backend,
        }
    )
    overrides += list(set_ or [])
    if out:
        overrides.append(f"out_dir={out}")
    if no_progress:
        overrides.append("progress=false")
    if resume:
        # Before any config is built: a folder with nothing to resume must not fall back to the
        # defaults (and their default model).
        from proxmo_bench.training.checkpoint import (
            CHECKPOINT_NAME,
            LEGACY_CHECKPOINT_NAME,
            find_checkpoint,
        )

        if not out:
            raise _config_error(ValueError("--resume needs --out RUN_FOLDER (the run to continue)"))
        if not Path(out).is_dir() or find_checkpoint(out) is None:
            raise _config_error(
                ValueError(
                    f"--resume: {out} holds no checkpoint ({CHECKPOINT_NAME} or "
                    f"{LEGACY_CHECKPOINT_NAME}); nothing to resume (start the run without --resume)"
                )
            )
    try:
        saved = Path(out or "") / "config.yaml"
        if source is None and resume:
            if not saved.is_file():
                raise ConfigError(
                    "run_config",
                    f"{saved} is missing; give the run's settings with --preset/--config "
                    "(they are checked against the checkpoint's)",
                )
            cfg = load_config(saved, overrides, saved_run=True)
        else:
            cfg = load_config(source, overrides)
    except ConfigError as exc:
        raise _config_error(exc) from None
    if print_config:
        print(json.dumps(cfg.to_dict(), indent=2))
        return
    from proxmo_bench.training.checkpoint import CheckpointError
    from proxmo_bench.training.metrics_log import MetricsError
    from proxmo_bench.training.resume import ConfigDriftError
    from proxmo_bench.training.trainer import train as run_training

    if not resume:
        _claim_run_folder(Path(cfg.out_dir), overwrite=overwrite)
    try:
        result = run_training(cfg, resume=resume, allow_config_change=allow_config_change)
    except (CheckpointError, ConfigDriftError, MetricsError) as exc:
        raise _config_error(exc) from None
    summary = {
        "out_dir": str(result.out_dir),
        "updates": result.updates,
        "initial_eval": result.initial_eval,
        "final_eval": result.final_eval,
    }
    from proxmo_bench.harness.learning_curve import plot_learning_curve

    try:
        summary["plot"] = str(
            plot_learning_curve(result.out_dir, title=f"{cfg.task} {cfg.estimator.name}")
        )
    except (OSError, ValueError) as exc:  # the run itself is complete; the plot is a convenience
        print(f"warning: no learning-curve plot: {exc}", file=sys.stderr)
    print(json.dumps(summary, indent=2))


def _count_progress(what: str) -> Callable[[int, int], None]:
    """``progress(done, total)`` for long loops: a line on stderr at every tenth of the total and
    at most every 30 s (the same on a terminal and in a log, where a bar would not draw)."""
    from proxmo_bench.progress_lines import PlainLineThrottle

    throttle = PlainLineThrottle(30.0)

    def report(done: int, total: int) -> None:
        if throttle.due(done, total):
            print(f"{what} {done}/{total}", file=sys.stderr, flush=True)

    return report


def _claim_run_folder(out: Path, *, overwrite: bool) -> None:
    """Make ``out`` ready for a new run: missing or empty is fine; a folder holding a run is
    refused, or, with ``overwrite``, emptied (only a folder that holds a run: config.yaml,
    metrics.jsonl or a checkpoint, so a mistyped --out never clears unrelated files)."""
    import shutil

    from proxmo_bench.training.checkpoint import CHECKPOINT_NAME, LEGACY_CHECKPOINT_NAME
    from proxmo_bench.training.metrics_log import METRICS_NAME

    if not out.exists():
        return
    if not out.is_dir():
        raise _config_error(ValueError(f"--out {out} is a file, not a run folder"))
    entries = sorted(out.iterdir())
    if not entries:
        return
    markers = {"config.yaml", METRICS_NAME, CHECKPOINT_NAME, LEGACY_CHECKPOINT_NAME}
    found = [p.name for p in entries if p.name in markers]
    shown = ", ".join(p.name for p in entries[:5]) + (", ..." if len(entries) > 5 else "")
    if not overwrite:
        what = "a run" if found else "files"
        raise _config_error(
            ValueError(
                f"--out {out} already holds {what} ({shown}); --resume continues that run, "
                "--overwrite clears it first, or choose another --out"
            )
        )
    if not found:
        raise _config_error(
            ValueError(
                f"--overwrite: {out} holds files ({shown}) but no run (no config.yaml, "
                f"{METRICS_NAME} or checkpoint); not clearing it"
            )
        )
    for entry in entries:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    console.print(f"cleared the previous run in {escape(str(out))}", highlight=False)


config_app = typer.Typer(help="Training configs: presets and fields.", no_args_is_help=True)
app.add_typer(config_app, name="config")


@config_app.command("presets")
def config_presets(as_json: Annotated[bool, _JSON_OPTION] = False) -> None:
    """List the presets (proxmo_bench/training/presets/*.yaml)."""
    from proxmo_bench.training.config import PRESET_DIR, list_presets

    presets = {}
    for name in list_presets():
        lines = (PRESET_DIR / f"{name}.yaml").read_text().splitlines()
        presets[name] = lines[0].lstrip("# ") if lines else ""
    if as_json:
        _print_json([{"name": k, "description": v} for k, v in presets.items()])
        return
    for name, first in presets.items():
        console.print(f"[bold]{escape(name)}[/bold]  {escape(first)}", highlight=False)


@config_app.command("fields")
def config_fields(as_json: Annotated[bool, _JSON_OPTION] = False) -> None:
    """Every TrainConfig field with its default and description."""
    from proxmo_bench.training.config import TrainConfig

    fields = [(name, default, plain_text(doc)) for name, default, doc in TrainConfig.fields_help()]
    if as_json:
        _print_json([{"field": n, "default": d, "description": doc} for n, d, doc in fields])
        return
    _print_rows("TrainConfig fields", ("field", "default", "description"), fields)


@app.command()
def quickstart(
    out: Annotated[str, typer.Option(help="output folder")] = "runs/quickstart",
    task: Annotated[str | None, typer.Option(help="alfworld (default) or keyroom")] = None,
    seeds: Annotated[
        str | None,
        typer.Option(help="comma-separated training seeds (default: the published ones, 0-9)"),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", metavar="KEY=VALUE", help="bench override, e.g. --set train.updates=10"
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="runs in parallel (default: CPU count)")
    ] = None,
) -> None:
    """Side-by-side benchmark of grpo, gigpo and proxmo, 10 seeds, relational CPU agent (~13 min)."""
    from proxmo_bench.harness.quickstart import SEEDS
    from proxmo_bench.harness.quickstart import quickstart as run_quickstart
    from proxmo_bench.training.config import ConfigError

    try:
        seed_list = _seeds(seeds) if seeds is not None else list(SEEDS)
        run_quickstart(out, task=task, seeds=seed_list, workers=workers, overrides=set_ or [])
    except ConfigError as exc:
        raise _config_error(exc) from None


def _seeds(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise typer.BadParameter(f"seeds must be comma-separated integers, got {text!r}") from None


@app.command()
def bench(
    suite: Annotated[str, typer.Option(help="leaderboard suite")] = "keyroom",
    preset: Annotated[
        str | None,
        typer.Option(help="the runs' training preset or YAML file (proxmo-bench config presets)"),
    ] = None,
    task: Annotated[
        list[str] | None, typer.Option(help="task id (repeatable; default: the preset's task)")
    ] = None,
    estimator: Annotated[
        list[str] | None, typer.Option(help="estimator (repeatable; default grpo, gigpo, proxmo)")
    ] = None,
    seeds: Annotated[str, typer.Option(help="comma-separated training seeds")] = "0,1,2",
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="KEY=VALUE",
            help="override a BenchConfig field (repeatable): train.<TrainConfig field> for every "
            "run (train.lr=1e-3, train.updates=10), estimators.<name>.<parameter> for one "
            "estimator (estimators.proxmo.temperature=0.2), eval_episodes=..., ...",
        ),
    ] = None,
    env: Annotated[
        list[str] | None,
        typer.Option(
            "--env", help="make() argument key=value (= --set train.env_kwargs.KEY=VALUE)"
        ),
    ] = None,
    eval_episodes: Annotated[
        str | None, typer.Option(help="held-out episodes (default 50; null = the whole split)")
    ] = None,
    workers: Annotated[str | None, typer.Option(help="runs in parallel")] = None,
    out: Annotated[str, typer.Option(help="output folder")] = "runs/bench",
) -> None:
    """Estimators x tasks x seeds with identical budgets; writes submissions, curves, a summary."""
    from proxmo_bench.harness.bench import run_bench
    from proxmo_bench.harness.bench_config import load_bench_config
    from proxmo_bench.training.config import ConfigError

    for name in task or []:
        task_spec(name)
    if estimator:
        from proxmo_bench.estimators import list_estimators

        known = list(list_estimators())
        for name in estimator:
            if name not in known:
                raise UserError(
                    f"no estimator {name!r}{did_you_mean(name, known)} (estimators: "
                    f"{', '.join(known)})"
                )
    fields: dict[str, Any] = {"suite": suite, "out_dir": out, "seeds": _seeds(seeds)}
    if task:
        fields["tasks"] = list(task)
    if estimator:
        fields["estimators"] = {name: {} for name in estimator}
    overrides = []  # flags first, then --set in order (one parsing rule for the values)
    if eval_episodes is not None:
        overrides.append(f"eval_episodes={eval_episodes}")
    if workers is not None:
        overrides.append(f"workers={workers}")
    overrides += [f"train.env_kwargs.{pair}" for pair in env or []]
    overrides += list(set_ or [])
    try:
        config = load_bench_config(preset, overrides, **fields)
    except ConfigError as exc:
        raise _config_error(exc) from None
    from proxmo_bench.harness.quickstart import print_results

    console.print(config.summary_header(), highlight=False)
    result = run_bench(config)
    print_results(result, config.suite, console)


@app.command()
def oracle(
    task: Annotated[
        str | None,
        typer.Option(help="task id (default: a checkpoint's training task; else KeyRoom)"),
    ] = None,
    env: Annotated[
        list[str] | None,
        typer.Option("--env", help="make() argument key=value (default: a checkpoint's)"),
    ] = None,
    policy: Annotated[
        str, typer.Option(help="'random' or a training run folder / checkpoint.pt")
    ] = "random",
    epsilon: Annotated[float, typer.Option(help="mix this much uniform-random in")] = 0.0,
    estimator: Annotated[
        list[str] | None,
        typer.Option(
            help="estimator label (repeatable; default all: grpo, rloo, gigpo, "
            "gigpo-ref, proxmo, proxmo-ref)"
        ),
    ] = None,
    groups: Annotated[int, typer.Option(help="task groups in the batch")] = 16,
    group_size: Annotated[int, typer.Option(help="rollouts per group (G)")] = 8,
    rollouts: Annotated[int, typer.Option(help="Monte Carlo continuations per state")] = 32,
    gamma: Annotated[float, typer.Option(help="discount of the true advantage")] = 0.95,
    seed: Annotated[int, typer.Option(help="seed of the batch and the continuations")] = 0,
    fork: Annotated[
        str, typer.Option(help="env copies: 'replay' the prefix, 'copy' one replay, 'auto'")
    ] = "auto",
    out: Annotated[str, typer.Option(help="output folder")] = "runs/oracle",
    publish: Annotated[
        str | None, typer.Option(help="also publish into this credit suite folder")
    ] = None,
    name: Annotated[str | None, typer.Option(help="the published result's name")] = None,
) -> None:
    """Score estimators against Monte Carlo ground-truth advantages on one group batch."""
    from proxmo_bench.harness.credit import (
        DEFAULT_ESTIMATORS,
        CreditSetting,
        load_policy,
        publish_credit,
        run_credit,
    )

    if publish is not None and not name:
        raise typer.BadParameter("--publish needs --name (the result's name in the suite)")
    if rollouts < 2:
        raise typer.BadParameter(
            f"--rollouts must be >= 2 (a standard error needs two), got {rollouts}"
        )
    env_kwargs = parse_kwargs(env or [])
    if policy != "random" and (task is None or env is None):
        try:
            _, described = load_policy(policy, seed=seed)
        except (ValueError, FileNotFoundError) as exc:
            raise typer.BadParameter(str(exc)) from None
        task = task or described["train_task"]
        if env is None:
            env_kwargs = dict(described["train_env_kwargs"])
    try:
        setting = CreditSetting(
            task=task or "proxmo/KeyRoom-v0",
            env_kwargs=env_kwargs,
            policy=policy,
            epsilon=epsilon,
            gamma=gamma,
            groups=groups,
            group_size=group_size,
            rollouts=rollouts,
            seed=seed,
            fork=fork,
            estimators=tuple(estimator) if estimator else tuple(DEFAULT_ESTIMATORS),
        )
        from proxmo_bench.tasks import get_task_spec

        get_task_spec(setting.task)
        result = run_credit(setting, out)
    except (ValueError, KeyError) as exc:
        console.print(f"[red]{str(exc).strip(chr(34))}[/red]")
        raise typer.Exit(2) from None
    _print_credit(result)
    console.print(f"wrote {out}/result.json, {out}/plots/")
    if publish is not None:
        assert name is not None
        console.print(f"wrote {publish_credit(out, publish, name)}")


def _print_credit(result: dict[str, Any]) -> None:
    from proxmo_bench.oracle import SCORES

    b, d, t = result["batch"], result["diagnostics"], result["timing"]
    table = Table(
        title=f"{result['setting']['task']}: {b['rows']} steps, success "
        f"{100 * b['success_rate']:.1f}%, policy {result['policy']['name']}"
    )
    table.add_column("estimator")
    for k in SCORES:
        table.add_column(k, justify="right")
    for label, sc in result["scores"].items():
        table.add_row(
            label,
            *(
                "-"
                if sc[k]["value"] != sc[k]["value"]
                else f"{sc[k]['value']:.2f} [{sc[k]['low']:.2f}, {sc[k]['high']:.2f}]"
                for k in SCORES
            ),
        )
    console.print(table)
    console.print(
        f"GiGPO singleton step groups {100 * d['gigpo_singleton_rate']:.1f}%, ProxMO effective "
        f"neighbours {d['proxmo_effective_neighbours']:.2f}, identical-return groups "
        f"{100 * d['identical_return_groups']:.1f}%; {t['total_s']:.1f} s (env {t['env_s']:.1f} s, "
        f"policy {t['policy_s']:.1f} s, fork {t['fork_s']:.1f} s)",
        highlight=False,
    )


def _leaderboard_error(exc: Exception) -> typer.Exit:
    console.print(f"[red]{escape(str(exc))}[/red]")
    return typer.Exit(1)


@leaderboard_app.command("validate")
def leaderboard_validate(
    path: Annotated[
        str, typer.Argument(help="a submission folder, or a leaderboards/ root with --all")
    ],
    all_: Annotated[
        bool, typer.Option("--all", help="validate every published submission under PATH")
    ] = False,
) -> None:
    """Schema, sizes, and metrics recomputed from the episodes."""
    from proxmo_bench.leaderboard import SubmissionError, validate_all, validate_submission

    if all_:
        results = validate_all(path)
        bad = {p: r for p, r in results.items() if isinstance(r, Exception)}
        for p in results:
            console.print(f"{'[red]FAIL[/red]' if p in bad else '[green]ok[/green]'}  {p}")
            if p in bad:
                console.print(f"      {bad[p]}")
        console.print(f"{len(results) - len(bad)}/{len(results)} submissions valid")
        raise typer.Exit(1 if bad else 0)
    from proxmo_bench.leaderboard.provenance import dependency_mismatches

    try:
        sub = validate_submission(path)
    except SubmissionError as exc:
        raise _leaderboard_error(exc) from None
    console.print(f"[green]valid[/green]: {path}")
    differ = dependency_mismatches(sub.manifest.package.dependencies)
    if differ:
        console.print(
            "[yellow]versions differ from this environment[/yellow] (re-training or re-running "
            "the policy here may give other numbers):"
        )
        for line in differ:
            console.print(f"  {line}", markup=False)


@leaderboard_app.command("verify")
def leaderboard_verify(
    path: Annotated[str, typer.Argument(help="a submission folder")],
    sample: Annotated[
        int | None, typer.Option(help="replay a seeded random sample of N episodes")
    ] = None,
    seed: Annotated[int, typer.Option(help="sample seed")] = 0,
    policy: Annotated[
        str,
        typer.Option(
            help="re-run a trained submission's policy from its shipped weights: auto (when it "
            "has them), always (fail without them), never"
        ),
    ] = "auto",
    llm_model: Annotated[
        str | None,
        typer.Option(
            help="an LLM submission: score every recorded action under this model (path, hub id "
            "or tiny-random; the shipped weights are loaded on it) and fail on actions it would "
            "almost never write"
        ),
    ] = None,
    llm_threshold: Annotated[
        float, typer.Option(help="flag a step below this many nats per answer token")
    ] = math.log(1e-3),
) -> None:
    """Replay the episodes through the envs, then re-run the policy where its weights travel;
    fails on any difference."""
    from proxmo_bench.leaderboard import SubmissionError, verify_submission

    if policy not in ("auto", "always", "never"):
        raise typer.BadParameter(f"--policy is auto, always or never, got {policy!r}")

    try:
        report = verify_submission(
            path, sample=sample, seed=seed, progress=_count_progress("replayed")
        )
    except SubmissionError as exc:
        raise _leaderboard_error(exc) from None
    for line in report.mismatches:
        console.print(f"[red]{line}[/red]")
    console.print(
        f"replayed {report.n_replayed} of {report.n_episodes} episodes: "
        + ("[green]all reproduce[/green]" if report.ok else "[red]mismatch[/red]")
    )
    ok = report.ok and _verify_policy(path, policy)
    if llm_model is not None:
        ok = _verify_llm(path, llm_model, llm_threshold) and ok
    raise typer.Exit(0 if ok else 1)


def _verify_llm(path: str, model: str, threshold: float) -> bool:
    """``verify --llm-model``: the recorded actions' log-probabilities; whether none is flagged."""
    from rich.markup import escape

    from proxmo_bench.harness.llm_check import check_llm_submission
    from proxmo_bench.leaderboard import validate_submission

    try:
        reports = check_llm_submission(validate_submission(path), model, threshold=threshold)
    except ValueError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        return False
    ok = True
    for seed, rep in reports.items():
        ok = ok and rep.ok
        colour = "green" if rep.ok else "red"
        console.print(f"[{colour}]run {seed}: {escape(rep.summary())}[/{colour}]")
        for f in rep.flagged[:10]:
            console.print(
                f"  [red]{escape(f.task_id)} step {f.step}: {escape(repr(f.action))} scores "
                f"{f.logprob_per_token:.2f} nats/token[/red]"
            )
        for problem in rep.problems[:10]:
            console.print(f"  [red]{escape(problem)}[/red]")
    return ok


def _verify_policy(path: str, mode: str) -> bool:
    """``verify``'s policy re-run (``--policy auto|always|never``); whether it passed."""
    from rich.markup import escape

    from proxmo_bench.harness.policy_rerun import check_policy
    from proxmo_bench.leaderboard import validate_submission

    check = check_policy(validate_submission(path), mode)
    for line in check.lines:
        console.print(escape(line) if check.ok else f"[red]{escape(line)}[/red]")
    return check.ok


@leaderboard_app.command("reproduce")
def leaderboard_reproduce(
    path: Annotated[str, typer.Argument(help="a trained submission folder")],
    out: Annotated[
        str, typer.Option(help="where the re-trained runs go (a run there resumes)")
    ] = "runs/reproduce",
    seeds: Annotated[
        str | None, typer.Option(help="comma-separated run seeds to re-train (default: all)")
    ] = None,
) -> None:
    """Re-train a submission's runs from its manifest; compare weights and episodes run by run."""
    from pathlib import Path

    from rich.markup import escape

    from proxmo_bench.harness.reproduce import reproduce_submission
    from proxmo_bench.leaderboard import SubmissionError

    try:
        chosen = [int(s) for s in seeds.split(",")] if seeds else None
    except ValueError:
        raise typer.BadParameter(f"--seeds takes comma-separated integers, got {seeds!r}") from None
    try:
        report = reproduce_submission(path, Path(out) / Path(path).name, seeds=chosen)
    except (SubmissionError, ValueError) as exc:
        raise _leaderboard_error(exc) from None
    table = Table(
        "seed",
        "weights (recorded)",
        "weights (now)",
        "success recorded",
        "now",
        "episodes differing",
    )
    for r in report.runs:
        same = {True: "[green]", False: "[red]", None: ""}[r.weights_equal]
        table.add_row(
            str(r.seed),
            r.weights_recorded[:12] if r.weights_recorded else "-",
            f"{same}{r.weights_now[:12]}",
            f"{r.success_recorded:.4f}",
            f"{r.success_now:.4f}",
            f"{r.episodes_differing}/{r.episodes}",
        )
    console.print(table)
    if report.combined_now is not None:
        same_all = report.combined_now == report.combined_recorded
        console.print(
            f"combined weights {report.combined_now[:12]} "
            + (
                "[green]equal[/green]"
                if same_all
                else f"[red]differ[/red] from {report.combined_recorded}"
            )
        )
    for line in report.version_mismatches:
        console.print(f"[yellow]version[/yellow] {escape(line)}")
    console.print(
        f"{len(report.runs)} runs re-trained: "
        + ("[green]bit-identical[/green]" if report.ok else "[red]not identical[/red]")
    )
    raise typer.Exit(0 if report.ok else 1)


@leaderboard_app.command("submit")
def leaderboard_submit(
    path: Annotated[str, typer.Argument(help="a submission folder made by `bench`")],
    root: Annotated[str, typer.Option(help="leaderboards root")] = "leaderboards",
    sample: Annotated[int | None, typer.Option(help="verify a sample of N episodes only")] = None,
    seed: Annotated[int, typer.Option(help="sample seed")] = 0,
    policy: Annotated[
        str,
        typer.Option(
            help="re-run a trained submission's policy before publishing: auto (a trained CPU "
            "agent must ship its weights), always, never"
        ),
    ] = "auto",
) -> None:
    """Validate + verify (replay, and the policy re-run), then publish under
    ROOT/<suite>/submissions/ (never overwrites; nothing is written when a check fails)."""
    from proxmo_bench.harness.policy_rerun import check_policy
    from proxmo_bench.leaderboard import Submission, SubmissionError, submit_submission

    if policy not in ("auto", "always", "never"):
        raise typer.BadParameter(f"--policy is auto, always or never, got {policy!r}")

    def policy_check(sub: Submission) -> list[str]:
        check = check_policy(sub, policy, strict=True)
        return [] if check.ok else check.lines

    try:
        dest = submit_submission(
            path, root=root, sample=sample, seed=seed, policy_check=policy_check
        )
    except SubmissionError as exc:
        raise _leaderboard_error(exc) from None
    console.print(f"[green]published[/green]: {dest}")


@leaderboard_app.command("rederive")
def leaderboard_rederive(
    paths: Annotated[
        list[str], typer.Argument(help="submission folders, or suite folders (with submissions/)")
    ],
) -> None:
    """Recompute metrics from the unchanged episodes with the current interval method and
    rewrite manifest.json; refuses submissions whose episodes do not validate."""
    from proxmo_bench.leaderboard.rederive import rederive_submission, submission_folders
    from proxmo_bench.leaderboard.validate import SubmissionError

    failed = False
    for path in paths:
        try:
            folders = submission_folders(path)
        except SubmissionError as exc:
            console.print(f"[red]{exc}[/red]")
            failed = True
            continue
        for folder in folders:
            try:
                res = rederive_submission(folder)
            except SubmissionError as exc:
                console.print(f"[red]refused[/red]  {exc}")
                failed = True
                continue
            what = f"rewritten (was {res.old_method})" if res.changed else "unchanged"
            console.print(f"[green]{what}[/green]  {folder}")
            for line in res.differences:
                console.print(f"      {line}")
    raise typer.Exit(1 if failed else 0)


@leaderboard_app.command("baselines")
def leaderboard_baselines(
    root: Annotated[str, typer.Option(help="leaderboards folder")] = "leaderboards",
    suite: Annotated[list[str] | None, typer.Option(help="suite (repeatable; default all)")] = None,
    task: Annotated[
        str | None,
        typer.Option(help="any registered task (third-party too): its registered expert/random"),
    ] = None,
    split: Annotated[str | None, typer.Option(help="with --task: evaluation split")] = None,
    episodes: Annotated[
        int | None, typer.Option(help="with --task: episodes (default: the whole split)")
    ] = None,
    env: Annotated[
        list[str] | None, typer.Option("--env", help="with --task: make() argument key=value")
    ] = None,
) -> None:
    """Make, validate, verify and publish the expert/random baselines missing from ROOT.

    Without --task: the published suites' baselines. With --task: the baselines the task
    registers (its expert, if any, and its random agent) in one setting, into --suite.
    """
    from proxmo_bench.harness.baselines import baseline_specs, publish_baselines

    if task is None:
        published = publish_baselines(root, suites=suite or None, log=console.print)
    else:
        if split is None or not suite or len(suite) != 1:
            raise _config_error(ValueError("--task needs --split and exactly one --suite"))
        try:
            specs = baseline_specs(
                task,
                suite=suite[0],
                split=split,
                n_episodes=episodes,
                env_kwargs=parse_kwargs(env or []),
            )
        except (KeyError, ValueError) as exc:
            raise _config_error(ValueError(str(exc).strip("'\""))) from None
        published = publish_baselines(root, specs=specs, log=console.print)
    console.print(f"{len(published)} baseline submission(s) published")


@leaderboard_app.command("render")
def leaderboard_render(
    suite: Annotated[str | None, typer.Argument(help="suite (default: all)")] = None,
    root: Annotated[str, typer.Option(help="leaderboards root")] = "leaderboards",
) -> None:
    """Write LEADERBOARD.md and index.html for a suite (or all suites)."""
    from proxmo_bench.leaderboard import SubmissionError, render_all, render_suite

    root_dir = Path(root)
    if not root_dir.is_dir():
        raise UserError(
            f"no leaderboards folder {root} (--root names the folder holding <suite>/submissions/)"
        )
    suites = sorted(p.name for p in root_dir.iterdir() if (p / "submissions").is_dir())
    if suite is not None and suite not in suites:
        raise UserError(
            f"no suite {suite!r} under {root}{did_you_mean(suite, suites)} (suites: "
            f"{', '.join(suites) or 'none'}; a suite is a folder with a submissions/ folder)"
        )
    try:
        paths = list(render_suite(root, suite)) if suite else render_all(root)
    except SubmissionError as exc:
        raise _leaderboard_error(exc) from None
    for p in paths:
        console.print(f"wrote {p}")


@alfworld_app.command(
    "equivalence",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def alfworld_equivalence(ctx: typer.Context) -> None:
    """Compare the fast engine with TextWorld step by step (options: --help)."""
    from proxmo_bench.envs.alfworld.fast.equivalence import main as equivalence_main

    raise typer.Exit(equivalence_main(list(ctx.args)))


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()

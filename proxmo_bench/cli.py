"""``proxmo-bench`` command line: tasks, play, estimators, data, training, benchmarks, leaderboard."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
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
console = Console()


def parse_kwargs(pairs: list[str]) -> dict[str, Any]:
    """``key=value`` pairs; values are parsed as JSON when they parse, else kept as strings."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"expected key=value, got {pair!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


@tasks_app.command("list")
def tasks_list() -> None:
    """List registered tasks (built-in and from the 'proxmo_bench.tasks' entry-point group)."""
    from proxmo_bench.tasks import list_tasks

    table = Table(title="proxmo-bench tasks")
    table.add_column("id", no_wrap=True)
    for col in ("splits", "categories", "max steps", "reward", "from", "description"):
        table.add_column(col, overflow="fold")
    for spec in list_tasks():
        table.add_row(
            spec.id,
            ", ".join(spec.splits),
            ", ".join(spec.categories),
            str(spec.max_episode_steps),
            f"{spec.reward_scale:g}",
            spec.source,
            spec.description,
        )
    console.print(table)


@app.command()
def play(
    task: Annotated[str, typer.Argument(help="registered task id, e.g. proxmo/ALFWorld-v0")],
    split: Annotated[str | None, typer.Option(help="data split")] = None,
    seed: Annotated[int | None, typer.Option(help="seed for reset (chooses the task)")] = None,
    task_id: Annotated[
        str | None, typer.Option("--task-id", help="a specific task instance")
    ] = None,
    kw: Annotated[
        list[str] | None, typer.Option("--kw", help="extra make() argument key=value")
    ] = None,
) -> None:
    """Play a task in the terminal: type an action, or the number of an admissible action.

    ':q' quits, ':r' restarts.
    """
    from proxmo_bench.tasks import make

    kwargs = parse_kwargs(kw or [])
    if split is not None:
        kwargs["split"] = split
    try:
        env = make(task, **kwargs)
    except (KeyError, ValueError, ImportError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    options = {"task_id": task_id} if task_id else None
    obs, info = env.reset(seed=seed, options=options)
    total = 0.0
    while True:
        console.rule(f"{info['task_id']}  ({info['task_category']})")
        console.print(f"[bold]Task:[/bold] {info['instruction']}\n")
        console.print(obs)
        adm = info.get("admissible_actions") or []
        for i, a in enumerate(adm, 1):
            console.print(f"  [cyan]{i:>2}[/cyan] {a}")
        try:
            line = input("> ").strip()
        except EOFError:
            break
        if line == ":q":
            break
        if line == ":r":
            obs, info = env.reset(seed=seed, options=options)
            total = 0.0
            continue
        action = adm[int(line) - 1] if line.isdigit() and 0 < int(line) <= len(adm) else line
        obs, reward, terminated, truncated, info = env.step(action)
        total += float(reward)
        if not info["action_valid"]:
            console.print("[yellow](invalid action)[/yellow]")
        if terminated or truncated:
            console.print(obs)
            verdict = "[green]won[/green]" if info["won"] else "[red]not won[/red]"
            console.print(f"Episode over: {verdict}, score {info['score']:.2f}, return {total:g}")
            break
    env.close()


@estimators_app.command("list")
def estimators_list() -> None:
    """List advantage estimators with their parameters and defaults."""
    from proxmo_bench.estimators import estimator_params, list_estimators

    table = Table(title="advantage estimators")
    table.add_column("name")
    table.add_column("parameters (defaults)", overflow="fold")
    table.add_column("description", overflow="fold")
    for name, doc in list_estimators().items():
        params = ", ".join(f"{k}={v!r}" for k, v in estimator_params(name).items())
        table.add_row(name, params, doc)
    console.print(table)


@data_app.command("fetch")
def data_fetch(
    name: Annotated[str, typer.Argument(help="data set: webshop")],
    dest: Annotated[str, typer.Option(help="target folder")] = "data",
    accept_license: Annotated[
        bool, typer.Option("--accept-license", help="accept the data set's licence (WebShop)")
    ] = False,
    subset: Annotated[str, typer.Option(help="webshop: small (1,000 products) or all")] = "small",
) -> None:
    """Download an official data set into DEST and print its SHA-256 sums."""
    fetchers = {"webshop"}
    if name not in fetchers:
        console.print(f"[red]unknown data set {name!r}; available: {sorted(fetchers)}[/red]")
        raise typer.Exit(2)
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


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()

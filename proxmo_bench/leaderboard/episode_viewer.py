"""Static episode viewer: ``<suite>/viewer/<submission>.html``, one page per submission.

Records keep actions and rewards, not observations, so each shown episode is replayed from its
record (``make(task, **env_kwargs)``, ``reset(seed, task_id)``, then the recorded actions) to
recover what the agent saw at every step. To keep the published pages small only the first
:data:`EPISODES_PER_SPLIT` episodes of each evaluation split are shown, and each observation is cut
to :data:`MAX_OBS_CHARS` characters. An episode whose env cannot be built here is shown with its
actions and rewards and the reason its observations are missing. Each episode is a
``<details>`` block (the first one open): the page needs no scripts.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from proxmo_bench.rollout.records import EpisodeRecord, read_episodes

EPISODES_PER_SPLIT = 3
MAX_OBS_CHARS = 1500
VIEWER_DIR = "viewer"


def shown_episodes(records: Sequence[EpisodeRecord]) -> list[EpisodeRecord]:
    """The first :data:`EPISODES_PER_SPLIT` records of each split, in file order."""
    seen: dict[str, int] = {}
    out = []
    for r in records:
        if seen.get(r.split, 0) < EPISODES_PER_SPLIT:
            seen[r.split] = seen.get(r.split, 0) + 1
            out.append(r)
    return out


def replay_observations(record: EpisodeRecord) -> list[str]:
    """The initial observation and the one after each recorded action, from a fresh env.

    Raises:
        Exception: whatever building or stepping the env raises (the caller reports it).
    """
    from proxmo_bench.tasks import make  # late import: rendering tables needs no envs

    env = make(record.task, **record.env_kwargs)
    try:
        obs, _ = env.reset(seed=record.seed, options=record.reset_options())
        out = [str(obs)]
        for action in record.actions:
            obs, *_ = env.step(action)
            out.append(str(obs))
        return out
    finally:
        env.close()


def _cut(text: str) -> str:
    return text if len(text) <= MAX_OBS_CHARS else text[:MAX_OBS_CHARS] + " …[cut]"


def episode_html(index: int, record: EpisodeRecord) -> str:
    """One episode as a ``<details>`` block with a step table (observation, action, reward)."""
    esc = html.escape
    try:
        obs: list[str] | None = replay_observations(record)
        note = ""
    except Exception as exc:  # an env missing here must not stop the page
        obs, note = None, f"observations not replayed: {type(exc).__name__}: {exc}"
    head = (
        f"#{index} {record.split} / {record.task_id} ({record.task_category}): "
        f"{record.termination}, {record.steps} steps, score {record.score:.2f}"
    )
    rows = []
    if obs is not None:
        rows.append(
            f"<tr><td>0</td><td><pre>{esc(_cut(obs[0]))}</pre></td><td>-</td><td>-</td></tr>"
        )
    for t, (action, reward) in enumerate(zip(record.actions, record.rewards, strict=True), 1):
        seen = f"<pre>{esc(_cut(obs[t]))}</pre>" if obs is not None and t < len(obs) else "-"
        rows.append(
            f"<tr><td>{t}</td><td>{seen}</td><td><code>{esc(action)}</code></td>"
            f'<td class="num">{reward:g}</td></tr>'
        )
    return (
        f'<details class="episode"{" open" if index == 1 else ""}><summary>{esc(head)}</summary>'
        + (f'<p class="note">{esc(note)}</p>' if note else "")
        + '<div class="scroll"><table class="steps"><thead><tr><th>step</th>'
        "<th>observation (after the action)</th><th>action</th><th>reward</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div></details>"
    )


def viewer_html(suite: str, folder: str, records: Sequence[EpisodeRecord]) -> str:
    """The viewer page of one submission."""
    esc = html.escape
    shown = shown_episodes(records)
    return (
        "\n".join(
            [
                "<!DOCTYPE html>",
                '<html lang="en"><head><meta charset="utf-8">',
                f"<title>episodes: {esc(folder)}</title>",
                "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}"
                ".scroll{overflow-x:auto}table{border-collapse:collapse;font-size:12px}"
                "td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top}th{background:#f3f3f3}"
                "pre{white-space:pre-wrap;margin:0;max-width:60em}summary{cursor:pointer;margin:4px 0}"
                ".note{color:#a00}</style>",
                "</head><body>",
                f'<p><a href="../index.html">&larr; {esc(suite)} leaderboard</a> | '
                f'<a href="../submissions/{esc(folder)}/manifest.json">manifest.json</a> | '
                f'<a href="../submissions/{esc(folder)}/episodes.jsonl.gz">episodes.jsonl.gz</a></p>',
                f"<h1>Episodes: {esc(folder)}</h1>",
                f"<p>The first {EPISODES_PER_SPLIT} episodes of each split ({len(shown)} of "
                f"{len(records)}), replayed from the record: observations come from re-running the "
                f"env with the recorded seed, task id and actions (cut to {MAX_OBS_CHARS} characters)."
                " Open an episode to see its steps.</p>",
                *(episode_html(i, r) for i, r in enumerate(shown, 1)),
                "</body></html>",
            ]
        )
        + "\n"
    )


def viewer_path(suite_dir: Path, folder: str) -> Path:
    """Where a submission's viewer page is written."""
    return suite_dir / VIEWER_DIR / f"{folder}.html"


def write_viewer(suite_dir: Path, folder: str, submission_dir: Path) -> Path:
    """Write the viewer page of the submission in ``submission_dir``; returns its path."""
    from proxmo_bench.atomic_files import write_atomic

    records = read_episodes(submission_dir / "episodes.jsonl.gz")
    path = viewer_path(suite_dir, folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, viewer_html(suite_dir.name, folder, records))
    return path

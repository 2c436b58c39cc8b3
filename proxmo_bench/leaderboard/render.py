"""``leaderboard render``: ``LEADERBOARD.md`` and a static ``index.html`` for one suite.

One table per evaluation setting (:mod:`proxmo_bench.leaderboard.setting`: task, data source,
evaluation split, the make() kwargs that change episodes, and the step limit), since only results
of one setting are comparable; like the papers' tables, a row per submission with success and its
95% interval, success per category the setting covers, score, episode length, runs, the agent and
the training budget. The HTML page carries the same tables and the learning curves (success vs updates
and vs env steps, mean over runs) as inline SVG, so it needs no scripts or network. Output depends
only on the manifests (no clock), so a rendered file in the repository can be checked for freshness.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from proxmo_bench.atomic_files import write_atomic
from proxmo_bench.leaderboard.decision import (
    DecisionTable,
    decision_markdown,
    decision_table,
    read_run_success,
)
from proxmo_bench.leaderboard.schema import Interval, Manifest, check_safe_name
from proxmo_bench.leaderboard.setting import EvaluationSetting, describe, evaluation_setting
from proxmo_bench.leaderboard.validate import SubmissionError, load_manifest

LEADERBOARD_MD = "LEADERBOARD.md"
INDEX_HTML = "index.html"
_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")


@dataclass(frozen=True)
class Entry:
    """A published submission as the renderer sees it."""

    folder: str
    manifest: Manifest
    path: Path | None = None  # the submission folder, when read from disk (its episodes)


def load_entries(suite_dir: str | Path) -> list[Entry]:
    """Manifests of every submission in ``<suite_dir>/submissions/``, schema-checked.

    Raises:
        SubmissionError: a manifest is invalid or its folder name is not ``<date>_<name>``.
    """
    suite_dir = Path(suite_dir)
    entries = []
    sub_dir = suite_dir / "submissions"
    if not sub_dir.is_dir():
        return []
    for folder in sorted(p for p in sub_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        m = load_manifest(folder)
        if folder.name != m.folder_name():
            raise SubmissionError(folder, [f"folder name should be {m.folder_name()!r}"])
        if m.suite != suite_dir.name:
            raise SubmissionError(folder, [f"suite {m.suite!r} published under {suite_dir.name!r}"])
        entries.append(Entry(folder.name, m, folder))
    return entries


# ---- formatting ------------------------------------------------------------------------------


def pct(x: float) -> str:
    """A fraction as a percentage with one decimal (``0.7234 -> '72.3'``)."""
    return f"{100.0 * x:.1f}"


def fmt_success(iv: Interval) -> str:
    """``'72.3 [68.0, 76.1]'``: mean and 95% interval, in percent."""
    return f"{pct(iv.mean)} [{pct(iv.low)}, {pct(iv.high)}]"


def fmt_category(iv: Interval) -> str:
    """``'80.0 ±5.0'``: mean and half the interval width, in percent."""
    return f"{pct(iv.mean)} ±{pct((iv.high - iv.low) / 2.0)}"


def fmt_budget(m: Manifest) -> str:
    """Training budget in one cell, or ``'-'`` for agents that are not trained."""
    if m.training is None:
        return "-"
    b = m.training.budget
    return f"{b.updates} upd, {b.groups_per_update}x{b.group_size} per upd, {b.env_steps} steps"


def fmt_agent(m: Manifest) -> str:
    """Agent name, kind and what pins it: the weights hash (trained agents) or the revision."""
    pin = (
        f"weights {m.agent.weights_sha256[:12]}"
        if m.agent.weights_sha256
        else f"rev {m.agent.revision}"
    )
    return f"{m.agent.name} ({m.agent.kind}; {m.agent.model_id}; {pin})"


def _md(text: str) -> str:
    """Text safe inside a Markdown table cell (manifest strings are untrusted)."""
    return " ".join(text.split()).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")


def _groups(entries: Sequence[Entry]) -> list[tuple[EvaluationSetting, str, list[Entry]]]:
    """Entries that share a table (same setting), with the setting in words, in table order."""
    groups: dict[tuple[str, str, str, str, int, str], tuple[EvaluationSetting, list[Entry]]] = {}
    for e in entries:
        setting = evaluation_setting(e.manifest)
        groups.setdefault(setting.key, (setting, []))[1].append(e)
    out = []
    for key in sorted(groups):
        setting, rows = groups[key]
        rows.sort(key=lambda e: (-e.manifest.metrics.success.mean, e.folder))
        siblings = [other for k, (other, _) in groups.items() if k != key and k[:3] == key[:3]]
        out.append((setting, describe(setting, siblings), rows))
    return out


def _categories(setting: EvaluationSetting, rows: Sequence[Entry]) -> list[str]:
    """The category columns: those the setting plays, then any other a row reports."""
    cats = list(setting.categories)
    for e in rows:
        for c in e.manifest.metrics.per_category:
            if c not in cats:
                cats.append(c)
    return cats


TABLE_HEAD = ("#", "Agent", "Estimator", "Success % [95% CI]")
TABLE_TAIL = ("Score", "Steps", "Runs", "Episodes/run", "Budget", "Submission")


def rank_labels(rows: Sequence[Entry]) -> list[str]:
    """Rank of each row (sorted by success): rows whose success intervals overlap their group
    leader's share its rank, marked ``=`` (tied: the intervals cannot order them)."""
    from proxmo_bench.leaderboard.comparison import Interval, rank_groups

    keys = [f"{i}" for i in range(len(rows))]
    intervals = {
        k: Interval(
            e.manifest.metrics.success.mean,
            e.manifest.metrics.success.low,
            e.manifest.metrics.success.high,
            len(e.manifest.runs),
        )
        for k, e in zip(keys, rows, strict=True)
    }
    groups = rank_groups(intervals)
    # the rank a group shows is its best row's position, as in sports tables ("1=, 1=, 3")
    first: dict[int, int] = {}
    for pos, k in enumerate(sorted(keys, key=lambda k: (groups[k], int(k))), 1):
        first.setdefault(groups[k], pos)
    sizes = {g: sum(v == g for v in groups.values()) for g in set(groups.values())}
    return [f"{first[groups[k]]}{'=' if sizes[groups[k]] > 1 else ''}" for k in keys]


def table_rows(
    rows: Sequence[Entry], setting: EvaluationSetting | None = None
) -> tuple[list[str], list[list[str]]]:
    """Header and cells of one setting's table (plain text, unescaped); ``setting`` defaults to
    the first row's."""
    if not rows:
        return [*TABLE_HEAD, *TABLE_TAIL], []
    cats = _categories(setting or evaluation_setting(rows[0].manifest), rows)
    header = [*TABLE_HEAD, *cats, *TABLE_TAIL]
    cells = []
    ranks = rank_labels(rows)
    for rank, e in zip(ranks, rows, strict=True):
        m = e.manifest
        est = m.training.estimator.label if m.training else "-"
        per_cat = [
            fmt_category(m.metrics.per_category[c]) if c in m.metrics.per_category else "-"
            for c in cats
        ]
        cells.append(
            [
                rank,
                fmt_agent(m),
                est,
                fmt_success(m.metrics.success),
                *per_cat,
                f"{m.metrics.score.mean:.3f}",
                f"{m.metrics.mean_steps.mean:.1f}",
                str(len(m.runs)),
                str(len(m.evaluation.episodes)),
                fmt_budget(m),
                e.folder,
            ]
        )
    return header, cells


def render_markdown(
    suite: str, entries: Sequence[Entry], decisions: Decisions | None = None
) -> str:
    """The suite's ``LEADERBOARD.md`` text (``decisions``: from :func:`setting_decisions`, computed
    here when not given)."""
    if decisions is None:
        decisions = setting_decisions(entries)
    lines = [
        f"# Leaderboard: {suite}",
        "",
        "Generated by `proxmo-bench leaderboard render` from the manifests in `submissions/`;",
        "do not edit.",
        "One table per evaluation setting (task, data source, split, the env settings that change",
        "episodes, and the step limit): results are comparable only within a table.",
        "Success is the percentage of evaluation episodes won, as the mean over runs with a 95%",
        "percentile-bootstrap interval (over runs when there are several, else over episodes).",
        "Category columns give success per task category the setting covers",
        "(mean ± half the interval width).",
        "Rows whose success intervals overlap share a rank, marked `=`: they are tied, not",
        "ordered.",
        "",
    ]
    if not entries:
        lines.append("No submissions yet.")
    for setting, words, rows in _groups(entries):
        lines += [
            f"## {_md(setting.task)} — {_md(setting.source)} data, split `{_md(setting.split)}`"
            f" — {_md(words)}",
            "",
        ]
        header, cells = table_rows(rows, setting)
        lines.append("| " + " | ".join(_md(h) for h in header) + " |")
        lines.append("|" + "|".join("---" for _ in header) + "|")
        for row in cells:
            lines.append("| " + " | ".join(_md(c) for c in row) + " |")
        lines.append("")
        decision = decisions.get(setting.key)
        if decision is not None:
            lines += [*decision_markdown(decision), ""]
    return "\n".join(lines).rstrip() + "\n"


#: A suite's decision tables by evaluation setting (``EvaluationSetting.key``).
Decisions = dict[tuple[str, str, str, str, int, str], DecisionTable | None]


def setting_decisions(entries: Sequence[Entry]) -> Decisions:
    """The decision table of every setting of ``entries`` (each read from disk once)."""
    return {setting.key: setting_decision(rows) for setting, _, rows in _groups(entries)}


def setting_decision(rows: Sequence[Entry]) -> DecisionTable | None:
    """The decision table of one setting's trained entries read from disk (None if fewer than
    two), with half the setting's expert entry's success as the sample-efficiency level."""
    trained = [
        (e.manifest, e.path) for e in rows if e.manifest.training is not None and e.path is not None
    ]
    if len(trained) < 2:
        return None
    experts = [e.manifest.metrics.success.mean for e in rows if e.manifest.agent.kind == "expert"]
    return decision_table(
        [(m, read_run_success(path, m)) for m, path in trained],
        expert_success=max(experts) if experts else None,
    )


# ---- HTML ------------------------------------------------------------------------------------


def mean_curve(m: Manifest) -> list[tuple[int, float, float]]:
    """``(update, mean env steps, mean success)`` over the runs that have a point at ``update``."""
    by_update: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for run in m.runs:
        for p in run.curve:
            by_update[p.update].append((p.env_steps, p.success))
    return [
        (u, sum(s for s, _ in pts) / len(pts), sum(v for _, v in pts) / len(pts))
        for u, pts in sorted(by_update.items())
    ]


def _svg_chart(
    title: str, xlabel: str, series: Sequence[tuple[str, list[tuple[float, float]]]]
) -> str:
    W, H, L, R, T, B = 520, 300, 50, 150, 28, 40
    xs = [x for _, pts in series for x, _ in pts] or [0.0, 1.0]
    x0, x1 = min(xs), max(xs)
    if x1 <= x0:
        x1 = x0 + 1.0

    def sx(x: float) -> float:
        return L + (x - x0) / (x1 - x0) * (W - L - R)

    def sy(y: float) -> float:
        return T + (1.0 - y) * (H - T - B)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" role="img" '
        f'aria-label="{html.escape(title)}">',
        f'<text x="{L}" y="18" font-size="13">{html.escape(title)}</text>',
        f'<line x1="{L}" y1="{sy(0)}" x2="{W - R}" y2="{sy(0)}" stroke="#444"/>',
        f'<line x1="{L}" y1="{sy(0)}" x2="{L}" y2="{sy(1)}" stroke="#444"/>',
        f'<text x="{(L + W - R) / 2}" y="{H - 8}" font-size="11" text-anchor="middle">'
        f"{html.escape(xlabel)}</text>",
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        out.append(
            f'<text x="{L - 6}" y="{sy(tick) + 4:.1f}" font-size="10" text-anchor="end">'
            f"{pct(tick)}</text>"
        )
    for tick in (x0, (x0 + x1) / 2, x1):
        out.append(
            f'<text x="{sx(tick):.1f}" y="{sy(0) + 14:.1f}" font-size="10" text-anchor="middle">'
            f"{tick:g}</text>"
        )
    for k, (label, pts) in enumerate(series):
        color = _PALETTE[k % len(_PALETTE)]
        if pts:
            path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
            out.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{path}"/>')
        ly = T + 14 * k + 10
        out.append(f'<rect x="{W - R + 8}" y="{ly - 8}" width="10" height="3" fill="{color}"/>')
        out.append(
            f'<text x="{W - R + 22}" y="{ly}" font-size="10">{html.escape(label[:24])}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


def _html_blocks(lines: Sequence[str]) -> list[str]:
    """Markdown paragraphs and pipe tables (as :func:`decision_markdown` writes them) as HTML."""
    esc = html.escape
    out: list[str] = []
    table: list[list[str]] = []

    def flush() -> None:
        if table:
            head, *body = table
            out.append(
                "<table><thead><tr>"
                + "".join(f"<th>{esc(c)}</th>" for c in head)
                + "</tr></thead><tbody>"
                + "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in body)
                + "</tbody></table>"
            )
            table.clear()

    for line in lines:
        if line.startswith("|"):
            if not line.startswith("|---"):
                table.append([c.strip() for c in line.strip().strip("|").split("|")])
            continue
        flush()
        if line.strip():
            out.append(f"<p>{esc(line)}</p>")
    flush()
    return out


def render_html(suite: str, entries: Sequence[Entry], decisions: Decisions | None = None) -> str:
    """The suite's static ``index.html`` (tables + learning curves, no scripts; ``decisions`` as
    for :func:`render_markdown`)."""
    if decisions is None:
        decisions = setting_decisions(entries)
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>proxmo-bench leaderboard: {esc(suite)}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1400px}"
        "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px}"
        "th{background:#f3f3f3}td.num{text-align:right}</style>",
        "</head><body>",
        f"<h1>Leaderboard: {esc(suite)}</h1>",
        "<p>One table per evaluation setting (task, data source, split, the env settings that "
        "change episodes, and the step limit): results are comparable only within a table. "
        "Success: percentage of evaluation episodes won, mean over runs with a 95% bootstrap "
        "interval. Category columns: success per task category the setting covers.</p>",
    ]
    if not entries:
        parts.append("<p>No submissions yet.</p>")
    for setting, words, rows in _groups(entries):
        task, source = setting.task, setting.source
        parts.append(
            f"<h2>{esc(task)} &mdash; {esc(source)} data, split <code>{esc(setting.split)}</code>"
            f" &mdash; {esc(words)}</h2>"
        )
        header, cells = table_rows(rows, setting)
        parts.append(
            "<table><thead><tr>"
            + "".join(f"<th>{esc(h)}</th>" for h in header)
            + "</tr></thead><tbody>"
        )
        for row in cells:
            parts.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>")
        parts.append("</tbody></table>")
        decision = decisions.get(setting.key)
        if decision is not None:
            parts.append("<h3>Decision table</h3>")
            parts += _html_blocks(decision_markdown(decision))
        trained = [e for e in rows if any(r.curve for r in e.manifest.runs)]
        if trained:
            by_update = []
            by_steps = []
            for e in trained:
                curve = mean_curve(e.manifest)
                label = (
                    (e.manifest.training.estimator.label if e.manifest.training else "")
                    + " "
                    + e.manifest.agent.name
                )
                by_update.append((label.strip(), [(float(u), s) for u, _, s in curve]))
                by_steps.append((label.strip(), [(st, s) for _, st, s in curve]))
            parts.append("<h3>Learning curves (mean over runs)</h3><div>")
            parts.append(_svg_chart(f"{task} ({source}): success vs updates", "updates", by_update))
            parts.append(
                _svg_chart(f"{task} ({source}): success vs env steps", "env steps", by_steps)
            )
            parts.append("</div>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def render_suite(root: str | Path, suite: str) -> tuple[Path, Path]:
    """Write ``<root>/<suite>/LEADERBOARD.md`` and ``index.html``; returns both paths."""
    check_safe_name(suite, "suite")
    suite_dir = Path(root) / suite
    entries = load_entries(suite_dir)
    suite_dir.mkdir(parents=True, exist_ok=True)
    md, page = suite_dir / LEADERBOARD_MD, suite_dir / INDEX_HTML
    decisions = setting_decisions(entries)
    for path, text in (
        (md, render_markdown(suite, entries, decisions)),
        (page, render_html(suite, entries, decisions)),
    ):
        write_atomic(path, text)
    return md, page


def render_all(root: str | Path) -> list[Path]:
    """Render every suite folder under ``root`` that has a ``submissions/`` folder."""
    out: list[Path] = []
    for suite_dir in sorted(p for p in Path(root).iterdir() if (p / "submissions").is_dir()):
        out += render_suite(root, suite_dir.name)
    return out

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
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from proxmo_bench.atomic_files import write_atomic
from proxmo_bench.leaderboard.credit_view import (
    CHARTED,
    CREDIT_HEADS,
    CREDIT_NOTE,
    credit_band,
    credit_cells,
    credit_header,
    has_credit,
)
from proxmo_bench.leaderboard.decision import (
    DecisionTable,
    decision_markdown,
    decision_table,
    read_run_success,
)
from proxmo_bench.leaderboard.episode_viewer import VIEWER_DIR, write_viewer
from proxmo_bench.leaderboard.palette import estimator_colour
from proxmo_bench.leaderboard.passk import PASS_K_SUITES, max_k, pass_hat_k
from proxmo_bench.leaderboard.schema import Interval, Manifest, check_safe_name
from proxmo_bench.leaderboard.setting import EvaluationSetting, describe, evaluation_setting
from proxmo_bench.leaderboard.validate import SubmissionError, load_manifest
from proxmo_bench.rollout.records import read_episodes

LEADERBOARD_MD = "LEADERBOARD.md"
INDEX_HTML = "index.html"
#: Most pass^k columns a customer-service table shows (pass^1 .. pass^MAX_PASS_K).
MAX_PASS_K = 4


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
        # then by rank group (stable): a group holds every row whose interval overlaps its
        # leader's, which need not be the rows next to it in mean order
        group = dict(zip((e.folder for e in rows), _row_groups(rows), strict=True))
        rows.sort(key=lambda e: group[e.folder])
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


def _row_groups(rows: Sequence[Entry]) -> list[int]:
    """The rank group of each row by its success interval (``comparison.rank_groups``: 1 = best;
    a group is its leader and every row whose interval overlaps the leader's)."""
    from proxmo_bench.leaderboard.comparison import Interval, rank_groups

    intervals = {
        str(i): Interval(
            e.manifest.metrics.success.mean,
            e.manifest.metrics.success.low,
            e.manifest.metrics.success.high,
            len(e.manifest.runs),
        )
        for i, e in enumerate(rows)
    }
    groups = rank_groups(intervals)
    return [groups[str(i)] for i in range(len(rows))]


def rank_labels(rows: Sequence[Entry]) -> list[str]:
    """Rank of each row (sorted by success): rows whose success intervals overlap their group
    leader's share its rank, marked ``=`` (tied: the intervals cannot order them)."""
    keys = [f"{i}" for i in range(len(rows))]
    groups = dict(zip(keys, _row_groups(rows), strict=True))
    # the rank a group shows is its best row's position, as in sports tables ("1=, 1=, 3")
    first: dict[int, int] = {}
    for pos, k in enumerate(sorted(keys, key=lambda k: (groups[k], int(k))), 1):
        first.setdefault(groups[k], pos)
    sizes = {g: sum(v == g for v in groups.values()) for g in set(groups.values())}
    return [f"{first[groups[k]]}{'=' if sizes[groups[k]] > 1 else ''}" for k in keys]


def _estimator_label(m: Manifest) -> str:
    return m.training.estimator.label if m.training else "-"


def _series_style(m: Manifest) -> tuple[str | None, str, bool]:
    """A trained entry's look on every chart: its estimator label (None untrained), the
    estimator's fixed colour, and dashed for a compatibility variant (label != name)."""
    est = m.training.estimator if m.training else None
    label = est.label if est else None
    return label, estimator_colour(label), est is not None and est.label != est.name


def credit_rows(rows: Sequence[Entry]) -> list[tuple[Entry, list[str]]]:
    """The rows that carry credit diagnostics, with their cells under :func:`credit_header`
    (plain text, unescaped): the credit table of both pages."""
    return [
        (e, credit_cells(_estimator_label(e.manifest), e.manifest.agent.name, e.manifest))
        for e in rows
        if has_credit(e.manifest)
    ]


def table_rows(
    rows: Sequence[Entry], setting: EvaluationSetting | None = None
) -> tuple[list[str], list[list[str]]]:
    """Header and cells of one setting's table (plain text, unescaped); ``setting`` defaults to
    the first row's."""
    if not rows:
        return [*TABLE_HEAD, *TABLE_TAIL], []
    cats = _categories(setting or evaluation_setting(rows[0].manifest), rows)
    passk = _pass_k_cells(rows)
    n_k = max((len(v) for v in passk), default=0)
    header = [*TABLE_HEAD, *cats, *(f"pass^{k}" for k in range(1, n_k + 1)), *TABLE_TAIL]
    cells = []
    ranks = rank_labels(rows)
    for rank, e, pk in zip(ranks, rows, passk, strict=True):
        m = e.manifest
        est = _estimator_label(m)
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
                *pk,
                *(["-"] * (n_k - len(pk))),
                f"{m.metrics.score.mean:.3f}",
                f"{m.metrics.mean_steps.mean:.1f}",
                str(len(m.runs)),
                str(len(m.evaluation.episodes)),
                fmt_budget(m),
                e.folder,
            ]
        )
    return header, cells


def _pass_k_cells(rows: Sequence[Entry]) -> list[list[str]]:
    """pass^1 .. pass^K of each row of a customer-service suite, in percent (``[]`` elsewhere and
    for rows read without their episodes); K is the fewest trials of any task, at most
    :data:`MAX_PASS_K`."""
    out: list[list[str]] = []
    for e in rows:
        if e.manifest.suite not in PASS_K_SUITES or e.path is None:
            out.append([])
            continue
        records = read_episodes(e.path / "episodes.jsonl.gz")
        ks = range(1, min(max_k(records), MAX_PASS_K) + 1)
        out.append([pct(v) if (v := pass_hat_k(records, k)) is not None else "-" for k in ks])
    return out


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
        *(
            [
                "pass^k (customer-service suites): the chance that all of k trials of a task",
                "succeed, C(c, k) / C(n, k) for c wins in n trials, averaged over tasks, in percent;",
                "k goes up to the fewest trials of any task (one run: pass^1 only).",
            ]
            if suite in PASS_K_SUITES
            else []
        ),
        "The HTML page (index.html) links each submission's files and an episode viewer.",
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
        credited = credit_rows(rows)
        if credited:
            head = credit_header()
            lines += ["Credit diagnostics (training):", ""]
            lines.append("| " + " | ".join(_md(h) for h in head) + " |")
            lines.append("|" + "|".join("---" for _ in head) + "|")
            for _, row in credited:
                lines.append("| " + " | ".join(_md(c) for c in row) + " |")
            lines += ["", CREDIT_NOTE, ""]
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
    return [(u, st, mean) for u, st, mean, _, _ in curve_band(m)]


def curve_band(m: Manifest) -> list[tuple[int, float, float, float, float]]:
    """``(update, mean env steps, mean, min, max success)`` over the runs (seeds) that have a point
    at ``update``: the line and the min-max band the charts draw."""
    by_update: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for run in m.runs:
        for p in run.curve:
            by_update[p.update].append((p.env_steps, p.success))
    out = []
    for u, pts in sorted(by_update.items()):
        vals = [v for _, v in pts]
        out.append(
            (u, sum(s for s, _ in pts) / len(pts), sum(vals) / len(vals), min(vals), max(vals))
        )
    return out


def nice_ticks(x0: float, x1: float, target: int = 5) -> list[float]:
    """Round tick positions covering ``[x0, x1]``: steps of 1, 2 or 5 times a power of ten, whole
    numbers when the range is (updates, env steps never tick at ``59603.2``)."""
    span = max(x1 - x0, 1e-12)
    raw = span / max(target, 1)
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(f * mag for f in (1.0, 2.0, 5.0, 10.0) if f * mag >= raw)
    if x1 - x0 >= 1.0:
        step = max(step, 1.0)
    first = math.ceil(x0 / step - 1e-9) * step
    return [first + i * step for i in range(int((x1 - first) / step + 1e-9) + 1)]


def si(x: float) -> str:
    """A tick label with an SI suffix: ``1500 -> '1.5k'``, ``2000000 -> '2M'``, ``12 -> '12'``."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"{x / scale:.3g}{suffix}"
    return f"{x:.3g}" if x != int(x) else str(int(x))


@dataclass(frozen=True)
class Series:
    """One line of a chart: its label, colour, dash pattern and ``(x, mean, low, high)`` points."""

    label: str
    colour: str
    points: list[tuple[float, float, float, float]]
    dashed: bool = False


#: The top of a share chart's y axis: the smallest of these that holds every point.
_SHARE_TOPS = (0.05, 0.1, 0.2, 0.25, 0.5, 1.0)


def share_top(series: Sequence[Series]) -> float:
    """The y-axis top for ``series`` of shares (0 to 1): :data:`_SHARE_TOPS`' first value at or
    above every point's band."""
    high = max((hi for s in series for _, _, _, hi in s.points), default=1.0)
    return next((t for t in _SHARE_TOPS if high <= t + 1e-12), 1.0)


def _svg_chart(title: str, xlabel: str, series: Sequence[Series], y_top: float = 1.0) -> str:
    """An SVG line chart of shares from 0 to ``y_top`` (percent ticks) with min-max bands."""
    W, H, L, R, T, B = 560, 300, 50, 190, 28, 40
    xs = [p[0] for s in series for p in s.points] or [0.0, 1.0]
    x0, x1 = min(xs), max(xs)
    if x1 <= x0:
        x1 = x0 + 1.0

    def sx(x: float) -> float:
        return L + (x - x0) / (x1 - x0) * (W - L - R)

    def sy(y: float) -> float:
        return T + (1.0 - y / y_top) * (H - T - B)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" role="img" '
        f'aria-label="{html.escape(title)}">',
        f'<text x="{L}" y="18" font-size="13">{html.escape(title)}</text>',
        f'<line x1="{L}" y1="{sy(0)}" x2="{W - R}" y2="{sy(0)}" stroke="#444"/>',
        f'<line x1="{L}" y1="{sy(0)}" x2="{L}" y2="{sy(y_top)}" stroke="#444"/>',
        f'<text x="{(L + W - R) / 2}" y="{H - 8}" font-size="11" text-anchor="middle">'
        f"{html.escape(xlabel)}</text>",
    ]
    for tick in (y_top * f for f in (0.0, 0.25, 0.5, 0.75, 1.0)):
        out.append(
            f'<line x1="{L}" y1="{sy(tick):.1f}" x2="{W - R}" y2="{sy(tick):.1f}" stroke="#eee"/>'
            f'<text x="{L - 6}" y="{sy(tick) + 4:.1f}" font-size="10" text-anchor="end">'
            f"{pct(tick)}</text>"
        )
    for tick in nice_ticks(x0, x1):
        out.append(
            f'<line x1="{sx(tick):.1f}" y1="{sy(0)}" x2="{sx(tick):.1f}" y2="{sy(0) + 4}" '
            f'stroke="#444"/><text x="{sx(tick):.1f}" y="{sy(0) + 15:.1f}" font-size="10" '
            f'text-anchor="middle">{si(tick)}</text>'
        )
    for k, s in enumerate(series):
        if s.points:
            upper = [f"{sx(x):.1f},{sy(hi):.1f}" for x, _, _, hi in s.points]
            lower = [f"{sx(x):.1f},{sy(lo):.1f}" for x, _, lo, _ in reversed(s.points)]
            out.append(
                f'<polygon class="band" fill="{s.colour}" fill-opacity="0.15" stroke="none" '
                f'points="{" ".join(upper + lower)}"/>'
            )
            path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y, _, _ in s.points)
            dash = ' stroke-dasharray="6 3"' if s.dashed else ""
            out.append(
                f'<polyline fill="none" stroke="{s.colour}" stroke-width="2"{dash} '
                f'points="{path}"/>'
            )
        ly = T + 14 * k + 10
        out.append(f'<rect x="{W - R + 8}" y="{ly - 8}" width="12" height="4" fill="{s.colour}"/>')
        out.append(
            f'<text x="{W - R + 24}" y="{ly}" font-size="10">{html.escape(s.label[:30])}</text>'
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
        "th{background:#f3f3f3}td.num{text-align:right}.scroll{overflow-x:auto;max-width:100%}"
        ".sw{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}"
        "figure.charts{margin:0}figure.charts svg{margin-right:1em}"
        "figcaption{font-size:12px;color:#444;max-width:60em}</style>",
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
            '<div class="scroll"><table><thead><tr>'
            + "".join(f"<th>{esc(h)}</th>" for h in header)
            + "<th>Files</th></tr></thead><tbody>"
        )
        for row, e in zip(cells, rows, strict=True):
            colour = estimator_colour(row[2])
            swatch = f'<span class="sw" style="background:{colour}"></span>'
            tds = [
                f"<td>{swatch}{esc(c)}</td>" if i == 2 else f"<td>{esc(c)}</td>"
                for i, c in enumerate(row)
            ]
            parts.append("<tr>" + "".join(tds) + f"<td>{submission_links(e)}</td></tr>")
        parts.append("</tbody></table></div>")
        decision = decisions.get(setting.key)
        if decision is not None:
            parts.append('<h3>Decision table</h3><div class="scroll">')
            parts += _html_blocks(decision_markdown(decision))
            parts.append("</div>")
        trained = [e for e in rows if any(r.curve for r in e.manifest.runs)]
        if trained:
            by_update, by_steps = [], []
            for e in trained:
                est_label, colour, dashed = _series_style(e.manifest)
                label = f"{est_label or '-'} {e.manifest.agent.name}".strip()
                band = curve_band(e.manifest)
                by_update.append(
                    Series(
                        label, colour, [(float(u), m, lo, hi) for u, _, m, lo, hi in band], dashed
                    )
                )
                by_steps.append(
                    Series(label, colour, [(st, m, lo, hi) for _, st, m, lo, hi in band], dashed)
                )
            parts.append('<h3>Learning curves</h3><figure class="charts">')
            parts.append(_svg_chart(f"{task} ({source}): success vs updates", "updates", by_update))
            parts.append(
                _svg_chart(f"{task} ({source}): success vs env steps", "env steps", by_steps)
            )
            parts.append(
                "<figcaption>Success (%) during training: the line is the mean over runs (seeds), "
                "the shaded band spans their minimum to maximum (no band: one run). One colour "
                "per estimator on every page; dashed: a compatibility variant "
                "(e.g. proxmo (reference)).</figcaption></figure>"
            )
        parts += _credit_html(task, source, rows)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _credit_html(task: str, source: str, rows: Sequence[Entry]) -> list[str]:
    """A setting's credit diagnostics section (table and charts of the shares over updates) for
    the rows that carry them (:mod:`.credit_view`); ``[]`` when none does."""
    credited = credit_rows(rows)
    if not credited:
        return []
    esc = html.escape
    parts = [
        '<h3>Credit diagnostics (training)</h3><div class="scroll"><table><thead><tr>'
        + "".join(f"<th>{esc(h)}</th>" for h in credit_header())
        + "</tr></thead><tbody>"
    ]
    for e, cells in credited:
        colour = estimator_colour(_estimator_label(e.manifest))
        swatch = f'<span class="sw" style="background:{colour}"></span>'
        parts.append(
            "<tr>"
            + "".join(
                f"<td>{swatch}{esc(c)}</td>" if i == 0 else f"<td>{esc(c)}</td>"
                for i, c in enumerate(cells)
            )
            + "</tr>"
        )
    parts.append("</tbody></table></div>")
    parts.append('<figure class="charts">')
    for name in CHARTED:
        series = []
        for e, _ in credited:
            est_label, colour, dashed = _series_style(e.manifest)
            band = credit_band(e.manifest, name)
            series.append(
                Series(
                    est_label or "-",
                    colour,
                    [(float(u), m, lo, hi) for u, m, lo, hi in band],
                    dashed,
                )
            )
        parts.append(
            _svg_chart(
                f"{task} ({source}): {CREDIT_HEADS[name]}", "updates", series, share_top(series)
            )
        )
    parts.append(
        f"<figcaption>{esc(CREDIT_NOTE)} Charts: the mean over runs of each window of "
        "updates (between evaluations), min-max band over runs.</figcaption></figure>"
    )
    return parts


def submission_links(e: Entry) -> str:
    """Relative links (from the suite's ``index.html``) to a submission's manifest, episodes and
    episode viewer page, as HTML."""
    base = f"submissions/{html.escape(e.folder)}"
    links = [
        f'<a href="{base}/manifest.json">manifest</a>',
        f'<a href="{base}/episodes.jsonl.gz">episodes</a>',
    ]
    if e.path is not None:
        links.append(f'<a href="{VIEWER_DIR}/{html.escape(e.folder)}.html">viewer</a>')
    return " ".join(links)


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
    for e in entries:
        if e.path is not None:
            write_viewer(suite_dir, e.folder, e.path)
    return md, page


def render_all(root: str | Path) -> list[Path]:
    """Render every suite folder under ``root`` that has a ``submissions/`` folder."""
    out: list[Path] = []
    for suite_dir in sorted(p for p in Path(root).iterdir() if (p / "submissions").is_dir()):
        out += render_suite(root, suite_dir.name)
    return out

"""render: LEADERBOARD.md and index.html agree with the published manifests."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from proxmo_bench.agents.random_agent import RandomAgent
from proxmo_bench.harness.evaluate import evaluate, select_eval_episodes
from proxmo_bench.leaderboard.build import write_submission
from proxmo_bench.leaderboard.render import (
    Entry,
    fmt_category,
    fmt_success,
    render_html,
    render_markdown,
    render_suite,
)
from proxmo_bench.leaderboard.schema import (
    AgentInfo,
    Budget,
    CurvePoint,
    EstimatorInfo,
    Manifest,
    Training,
)
from proxmo_bench.leaderboard.setting import describe, evaluation_setting
from proxmo_bench.leaderboard.submit import submit_submission

TASK = "proxmo/KeyRoom-v0"


def _table(md: str) -> list[dict[str, str]]:
    lines = [ln for ln in md.splitlines() if ln.startswith("| ")]
    header = [c.strip() for c in lines[0].strip("|").split(" | ")]
    return [
        dict(zip(header, [c.strip() for c in ln.strip().strip("|").split(" | ")], strict=True))
        for ln in lines[1:]
    ]


def test_render_matches_submissions(clean_submission: Path, tmp_path: Path) -> None:
    root = tmp_path / "leaderboards"
    submit_submission(clean_submission, root=root)
    # A second, "trained" entry with a curve and a hostile agent name.
    episodes = select_eval_episodes(TASK, "test", 6, seed=5)
    runs = [
        (s, evaluate(RandomAgent(seed=10 + s), TASK, episodes, split="test")) for s in (0, 1, 2)
    ]
    curves = {
        s: [CurvePoint(update=u, env_steps=100 * u, success=0.1 * u) for u in range(4)]
        for s, _ in runs
    }
    training = Training(
        estimator=EstimatorInfo(name="proxmo", params={"gamma": 0.95}),
        budget=Budget(updates=3, group_size=4, groups_per_update=2, env_steps=300, episodes=24),
        split="train",
    )
    out = write_submission(
        tmp_path / "out",
        suite="keyroom",
        name="proxmo-light",
        task=TASK,
        env_kwargs={},
        split="test",
        episodes=episodes,
        runs=runs,
        training=training,
        curves=curves,
        agent=AgentInfo(name="light|<script>x</script>", kind="light", model_id="m", revision="r"),
        created=dt.date(2026, 1, 3),
    )
    submit_submission(out, root=root)
    md_path, html_path = render_suite(root, "keyroom")
    md, page = md_path.read_text(), html_path.read_text()

    rows = _table(md)
    manifests = {
        p.name: Manifest.model_validate(json.loads((p / "manifest.json").read_text()))
        for p in (root / "keyroom" / "submissions").iterdir()
    }
    assert {r["Submission"] for r in rows} == set(manifests)
    for row in rows:
        m = manifests[row["Submission"]]
        assert row["Success % [95% CI]"] == fmt_success(m.metrics.success)
        for cat, iv in m.metrics.per_category.items():
            assert row[cat] == fmt_category(iv)
        assert row["Runs"] == str(len(m.runs))
        assert row["Estimator"] == (m.training.estimator.name if m.training else "-")
    ranked = [manifests[r["Submission"]].metrics.success.mean for r in rows]
    assert ranked == sorted(ranked, reverse=True)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "\\|" in md  # the pipe in the agent name cannot break the table
    assert page.count("<polyline") == 2  # one curve per chart, only for the trained entry
    # Rendering is a pure function of the manifests.
    render_suite(root, "keyroom")
    assert md_path.read_text() == md and html_path.read_text() == page


# ---- one table per evaluation setting -------------------------------------------------------

ALFWORLD = "proxmo/ALFWorld-v0"
ALFWORLD_CATEGORIES = ["pick", "look", "clean", "heat", "cool", "pick2"]


def _alfworld_entry(
    clean: Path,
    name: str,
    env_kwargs: dict[str, Any],
    categories: list[str],
    *,
    source: str = "generated",
    success: float = 0.5,
    data_sha256: str | None = None,
) -> Entry:
    """An ALFWorld entry built from the clean manifest (rendering reads manifests only)."""
    obj = json.loads((clean / "manifest.json").read_text())
    obj["name"] = name
    obj["task"] = {
        "id": ALFWORLD,
        "env_version": "1",
        "env_kwargs": {"source": source, **env_kwargs},
        "categories": ALFWORLD_CATEGORIES,
    }
    obj["data"]["source"] = source
    if data_sha256 is not None:
        obj["data"]["files_sha256"] = data_sha256
    obj["evaluation"]["split"] = "valid_unseen"
    iv = obj["metrics"]["success"]
    iv.update(mean=success, low=success, high=success, per_run=[success] * len(iv["per_run"]))
    obj["metrics"]["per_category"] = {c: dict(iv) for c in categories}
    m = Manifest.model_validate(obj)
    return Entry(m.folder_name(), m)


def _sections(md: str) -> dict[str, list[dict[str, str]]]:
    """Each ``## `` heading with the rows of the table under it."""
    out: dict[str, list[dict[str, str]]] = {}
    for block in md.split("\n## ")[1:]:
        heading, _, body = block.partition("\n")
        out[heading] = _table(body)
    return out


def test_tables_split_by_evaluation_setting(clean_submission: Path) -> None:
    entries = [
        _alfworld_entry(clean_submission, "default", {}, ALFWORLD_CATEGORIES),
        # the engine does not change episodes, and difficulty 2 is the default: same table
        _alfworld_entry(
            clean_submission,
            "explicit",
            {"engine": "textworld", "difficulty": 2},
            ALFWORLD_CATEGORIES,
        ),
        _alfworld_entry(
            clean_submission,
            "easy",
            {"difficulty": 1, "categories": ["pick", "look"], "max_episode_steps": 50},
            ["pick", "look"],
        ),
        _alfworld_entry(clean_submission, "short", {"max_episode_steps": 30}, ALFWORLD_CATEGORIES),
        # every category listed is no restriction
        _alfworld_entry(
            clean_submission,
            "all-listed",
            {"categories": list(reversed(ALFWORLD_CATEGORIES)), "max_episode_steps": 30},
            ALFWORLD_CATEGORIES,
        ),
        _alfworld_entry(clean_submission, "official", {}, ALFWORLD_CATEGORIES, source="official"),
    ]
    md = render_markdown("alfworld", entries)
    sections = _sections(md)
    head = f"{ALFWORLD} — generated data, split `valid_unseen` — "
    assert set(sections) == {
        head + "all categories, difficulty 2, 30 steps",
        head + "all categories, difficulty 2, 50 steps",
        head + "categories pick+look, difficulty 1, 50 steps",
        f"{ALFWORLD} — official data, split `valid_unseen` — 50 steps",
    }

    def names(heading: str) -> set[str]:
        return {r["Submission"].split("_", 1)[1] for r in sections[heading]}

    assert names(head + "all categories, difficulty 2, 50 steps") == {"default", "explicit"}
    assert names(head + "all categories, difficulty 2, 30 steps") == {"short", "all-listed"}
    easy = sections[head + "categories pick+look, difficulty 1, 50 steps"]
    assert names(head + "categories pick+look, difficulty 1, 50 steps") == {"easy"}
    # only the categories the setting covers get a column
    assert "pick" in easy[0] and "look" in easy[0]
    assert not set(easy[0]) & {"clean", "heat", "cool", "pick2"}
    full = sections[head + "all categories, difficulty 2, 50 steps"]
    assert set(ALFWORLD_CATEGORIES) <= set(full[0])

    page = render_html("alfworld", entries)
    for heading in sections:
        task_part, _, rest = heading.partition(" — ")
        source_split, _, words = rest.partition(" — ")
        split = source_split.split("`")[1]
        assert (
            f"<h2>{task_part} &mdash; {source_split.split(',')[0]}, split <code>{split}</code>"
            f" &mdash; {words}</h2>"
        ) in page
    assert page.count("<table>") == 4


def test_setting_resolves_defaults_and_ignores_neutral_kwargs(clean_submission: Path) -> None:
    plain = evaluation_setting(_alfworld_entry(clean_submission, "a", {}, []).manifest)
    same = evaluation_setting(
        _alfworld_entry(
            clean_submission,
            "b",
            {"engine": "textworld", "difficulty": 2, "max_episode_steps": 50, "reward_scale": 10},
            [],
        ).manifest
    )
    assert plain.key == same.key and plain.max_steps == 50
    assert dict(plain.kwargs)["difficulty"] == 2 and "engine" not in dict(plain.kwargs)
    assert describe(plain) == "50 steps"
    harder = evaluation_setting(
        _alfworld_entry(clean_submission, "c", {"reward_scale": 5.5}, []).manifest
    )
    assert harder.key != plain.key
    assert describe(harder) == "reward scale 5.5, 50 steps"
    assert describe(plain, [harder]) == "reward scale 10, 50 steps"
    assert harder.categories == tuple(ALFWORLD_CATEGORIES)


def test_other_official_data_versions_get_their_own_table(clean_submission: Path) -> None:
    a, b = "a" * 64, "b" * 64
    entries = [
        _alfworld_entry(clean_submission, "v1", {}, ALFWORLD_CATEGORIES, source="official",
                        data_sha256=a),
        _alfworld_entry(clean_submission, "v1-again", {}, ALFWORLD_CATEGORIES, source="official",
                        data_sha256=a),
        _alfworld_entry(clean_submission, "v2", {}, ALFWORLD_CATEGORIES, source="official",
                        data_sha256=b),
    ]  # fmt: skip
    sections = _sections(render_markdown("alfworld", entries))
    head = f"{ALFWORLD} — official data, split `valid_unseen` — 50 steps, data sha256 "
    assert set(sections) == {head + a[:12], head + b[:12]}
    assert {r["Submission"].split("_", 1)[1] for r in sections[head + a[:12]]} == {"v1", "v1-again"}
    # one data version alone: no hash in the heading
    alone = _sections(render_markdown("alfworld", entries[:2]))
    assert set(alone) == {f"{ALFWORLD} — official data, split `valid_unseen` — 50 steps"}


def test_rows_whose_intervals_overlap_share_a_rank() -> None:
    from types import SimpleNamespace

    from proxmo_bench.leaderboard.render import rank_labels

    def row(mean: float, low: float, high: float) -> SimpleNamespace:
        success = SimpleNamespace(mean=mean, low=low, high=high)
        return SimpleNamespace(
            manifest=SimpleNamespace(metrics=SimpleNamespace(success=success), runs=[0, 1, 2])
        )

    rows = [
        row(1.0, 1.0, 1.0),
        row(0.21, 0.15, 0.25),
        row(0.19, 0.12, 0.27),
        row(0.15, 0.12, 0.17),
        row(0.04, 0.02, 0.06),
    ]
    assert rank_labels(rows) == ["1", "2=", "2=", "2=", "5"]
    assert rank_labels([row(0.5, 0.4, 0.6), row(0.2, 0.1, 0.3)]) == ["1", "2"]


def test_table_rows_follow_rank_groups_when_a_group_skips_a_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Group 1 is the leader and every row overlapping it; a row between two members by mean can
    fall outside it, and the table lists it after the group so the ranks read in order."""
    from types import SimpleNamespace

    import proxmo_bench.leaderboard.render as render

    def row(folder: str, mean: float, low: float, high: float) -> Any:
        success = SimpleNamespace(mean=mean, low=low, high=high)
        m = SimpleNamespace(metrics=SimpleNamespace(success=success), runs=[0, 1, 2])
        return SimpleNamespace(folder=folder, manifest=m)

    rows = [
        row("a", 0.81, 0.765, 0.85),
        row("narrow", 0.731, 0.70, 0.762),  # below a's low: not in a's group
        row("wide", 0.692, 0.606, 0.765),  # reaches a's low: tied with a
    ]
    setting = SimpleNamespace(key=("t", "s", "x", "", 50, ""))
    monkeypatch.setattr(render, "evaluation_setting", lambda m: setting)
    monkeypatch.setattr(render, "describe", lambda s, siblings=(): "words")
    ((_, _, ordered),) = render._groups(rows)
    assert [e.folder for e in ordered] == ["a", "wide", "narrow"]
    assert render.rank_labels(ordered) == ["1=", "1=", "3"]

"""The published pages: every suite rendered into a copy of ``leaderboards/``, checked for a fixed
colour per estimator, links that resolve, pass^k on the customer-service suites and episode viewer
pages replayed from the records; plus a headless-Chromium load of the pages (``-m browser``)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from proxmo_bench.leaderboard.episode_viewer import EPISODES_PER_SPLIT, VIEWER_DIR
from proxmo_bench.leaderboard.palette import KNOWN_ESTIMATORS, PALETTE, estimator_colour
from proxmo_bench.leaderboard.passk import pass_hat_k
from proxmo_bench.leaderboard.render import nice_ticks, render_all, si
from proxmo_bench.rollout.records import EpisodeRecord

PUBLISHED = Path(__file__).resolve().parents[2] / "leaderboards"
SUITES = sorted(p.name for p in PUBLISHED.iterdir() if (p / "submissions").is_dir())


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.svgs = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href" and v]
        self.svgs += tag == "svg"


def _parse(path: Path) -> _Links:
    p = _Links()
    p.feed(path.read_text())
    return p


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the published leaderboards, re-rendered (the data env vars enable replays)."""
    root = tmp_path_factory.mktemp("pages") / "leaderboards"
    shutil.copytree(PUBLISHED, root, ignore=shutil.ignore_patterns(VIEWER_DIR, "*.html", "*.md"))
    render_all(root)
    return root


def _record(task_id: str, won: bool) -> EpisodeRecord:
    return EpisodeRecord(
        task="proxmo/Retail-v0",
        task_id=task_id,
        task_category="c",
        split="test",
        seed=0,
        actions=["a"],
        rewards=[1.0 if won else 0.0],
        won=won,
        score=1.0 if won else 0.0,
        steps=1,
        termination="success" if won else "failure",
        env_version="0",
    )


def test_colours_are_fixed_and_distinct() -> None:
    assert [estimator_colour(n) for n in KNOWN_ESTIMATORS] == list(PALETTE)
    assert len(set(PALETTE)) == len(PALETTE)
    assert estimator_colour("proxmo (reference)") == estimator_colour("proxmo")
    assert estimator_colour("-") == estimator_colour(None) != estimator_colour("grpo")
    plug = estimator_colour("my_plugin_estimator")
    assert re.fullmatch(r"#[0-9a-f]{6}", plug) and plug == estimator_colour("my_plugin_estimator")


def test_pass_hat_k_matches_the_combinatorial_definition() -> None:
    # task a: 3 trials, 2 wins; task b: 3 trials, 0 wins
    recs = [_record("a", w) for w in (True, True, False)] + [_record("b", False)] * 3
    assert pass_hat_k(recs, 1) == pytest.approx((2 / 3 + 0) / 2)
    assert pass_hat_k(recs, 2) == pytest.approx((1 / 3 + 0) / 2)
    assert pass_hat_k(recs, 3) == 0.0
    assert pass_hat_k(recs, 4) is None
    with pytest.raises(ValueError, match="k must be"):
        pass_hat_k(recs, 0)


def test_ticks_are_round_and_si_formatted() -> None:
    assert nice_ticks(0, 40) == [0, 10, 20, 30, 40]
    ticks = nice_ticks(0, 119_206.4)
    assert 3 <= len(ticks) <= 6 and all(t == int(t) and int(t) % 10_000 == 0 for t in ticks)
    assert [si(t) for t in (0, 20_000, 1_500_000, 12)] == ["0", "20k", "1.5M", "12"]


@pytest.mark.slow
def test_pages_structure(rendered: Path) -> None:
    for suite in SUITES:
        page = rendered / suite / "index.html"
        text = page.read_text()
        links = _parse(page)
        subs = sorted((rendered / suite / "submissions").iterdir())
        for href in links.hrefs:  # every relative link resolves from the page's folder
            assert (page.parent / href).is_file(), f"{suite}: broken link {href}"
        for sub in subs:
            for name in ("manifest.json", "episodes.jsonl.gz"):
                assert f"submissions/{sub.name}/{name}" in links.hrefs
            viewer = rendered / suite / VIEWER_DIR / f"{sub.name}.html"
            assert f"{VIEWER_DIR}/{sub.name}.html" in links.hrefs
            vtext = viewer.read_text()
            n_episodes = vtext.count('<details class="episode"')
            assert 1 <= n_episodes <= EPISODES_PER_SPLIT * 2
            assert "<th>observation (after the action)</th>" in vtext
            for href in _parse(viewer).hrefs:
                assert (viewer.parent / href).is_file(), f"{viewer.name}: broken link {href}"
            if os.environ.get("ALFWORLD_DATA") and os.environ.get("TAU_BENCH_DATA"):
                assert "not replayed" not in vtext, f"{viewer.name}: replay failed"
        md = (rendered / suite / "LEADERBOARD.md").read_text()
        has_passk = "<th>pass^1</th>" in text and "| pass^1 |" in md
        assert has_passk == (suite in ("retail", "airline")), suite
        if "Learning curves" in text:
            assert links.svgs >= 2 and 'class="band"' in text and "minimum to maximum" in text
            # one colour per estimator: a line's colour is its estimator's
            for colour in re.findall(r'<polyline fill="none" stroke="(#[0-9a-f]{6})"', text):
                assert colour in PALETTE or colour == estimator_colour(None)
        assert 'class="scroll"' in text


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.browser
@pytest.mark.slow
def test_pages_load_in_headless_chromium(rendered: Path) -> None:
    exe = _chromium()
    if exe is None:
        pytest.skip("no chromium binary on PATH (apt-get install -y chromium)")
    shots = Path("/tmp/shots")
    shots.mkdir(exist_ok=True)
    flags = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"]
    for suite in SUITES:
        viewer = sorted((rendered / suite / VIEWER_DIR).glob("*.html"))[0]
        for page, shot in (
            (rendered / suite / "index.html", f"{suite}.png"),
            (viewer, f"{suite}-viewer.png"),
        ):
            url = page.as_uri()
            dom = subprocess.run(
                [*flags, "--dump-dom", url], capture_output=True, text=True, timeout=120
            )
            assert dom.returncode == 0, dom.stderr[-500:]
            assert "<a " in dom.stdout and "Uncaught" not in dom.stderr
            assert (
                "CONSOLE" not in dom.stderr
                or "ERROR" not in dom.stderr.upper().split("CONSOLE", 1)[1][:200]
            )
            if page.name == "index.html" and "Learning curves" in dom.stdout:
                assert "<svg" in dom.stdout and "<polyline" in dom.stdout
            if page.parent.name == VIEWER_DIR:
                assert "<td>1</td>" in dom.stdout  # steps are in the rendered DOM
            run = subprocess.run(
                [*flags, "--window-size=1400,2000", f"--screenshot={shots / shot}", url],
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert run.returncode == 0 and (shots / shot).stat().st_size > 1000, run.stderr[-500:]

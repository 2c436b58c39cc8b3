"""The learning-curve plot ``train`` writes, and the one-line notice when TensorBoard is missing."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from proxmo_bench.harness.learning_curve import PLOT_NAME, plot_learning_curve
from proxmo_bench.training import metrics_log
from proxmo_bench.training.metrics_log import METRICS_NAME, MetricsLog


def _write_metrics(run: Path, n: int) -> None:
    lines = [{"update": 0, "env_steps": 0, "eval/success_rate": 0.1}]
    for u in range(1, n + 1):
        rec = {
            "update": u,
            "env_steps": 40 * u,
            "train/success_rate": u / n,
            "train/mean_return": 2.0 * u,
            "train/mean_length": 10.0 - u / n,
        }
        if u % 2 == 0:
            rec["eval/success_rate"] = u / n
        lines.append(rec)
    (run / METRICS_NAME).write_text("".join(json.dumps(r) + "\n" for r in lines))


def test_plot_is_a_png_drawn_from_the_metrics(tmp_path: Path) -> None:
    _write_metrics(tmp_path, 6)
    out = plot_learning_curve(tmp_path, title="proxmo/KeyRoom-v0 proxmo")
    assert out == tmp_path / PLOT_NAME
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000


def test_a_folder_without_metrics_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no training metrics"):
        plot_learning_curve(tmp_path)


def test_corrupt_metrics_name_the_line(tmp_path: Path) -> None:
    _write_metrics(tmp_path, 2)
    with open(tmp_path / METRICS_NAME, "a") as f:
        f.write("{not json\n")
    with pytest.raises(metrics_log.MetricsError):
        plot_learning_curve(tmp_path)


@pytest.mark.skipif(
    importlib.util.find_spec("tensorboard") is not None, reason="TensorBoard is installed here"
)
def test_missing_tensorboard_is_said_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(metrics_log, "_notified", False)
    MetricsLog(tmp_path / "a", tensorboard=True).close()
    MetricsLog(tmp_path / "b", tensorboard=True).close()
    err = capsys.readouterr().err
    assert err.count("TensorBoard is not installed") == 1
    assert len(err.strip().splitlines()) == 1
    MetricsLog(tmp_path / "c", tensorboard=False).close()
    assert capsys.readouterr().err == ""

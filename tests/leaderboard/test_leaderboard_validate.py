"""validate / verify / submit on a clean submission and on tampered or hostile copies."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from proxmo_bench.leaderboard import validate as validate_mod
from proxmo_bench.leaderboard.submit import submit_submission
from proxmo_bench.leaderboard.validate import SubmissionError, validate_all, validate_submission
from proxmo_bench.leaderboard.verify import verify_submission
from proxmo_bench.rollout.records import EpisodeRecord

from .leaderboard_tamper import edit_manifest, rewrite

Copy = Callable[[], Path]


def _problems(exc: pytest.ExceptionInfo[SubmissionError]) -> str:
    return "\n".join(exc.value.problems)


def test_clean_submission_validates_and_verifies(clean_submission: Path) -> None:
    sub = validate_submission(clean_submission)
    assert len(sub.runs) == 2 and all(len(r) == 12 for r in sub.runs)
    report = verify_submission(clean_submission)
    assert report.ok and report.n_checked == 24 and report.tasks_hash_checked
    sampled = verify_submission(clean_submission, sample=5, seed=1)
    assert sampled.n_checked == 5 and not sampled.tasks_hash_checked


def test_changed_reward_fails_validate_and_verify(copy_of: Copy) -> None:
    def bump(recs: list[EpisodeRecord]) -> list[EpisodeRecord]:
        r = recs[0]
        recs[0] = r.model_copy(update={"rewards": [*r.rewards[:-1], r.rewards[-1] + 1.0]})
        return recs

    naive = copy_of()
    rewrite(naive, bump, recompute=False)
    with pytest.raises(SubmissionError) as exc:
        validate_submission(naive)
    assert "metrics.mean_return.mean claims" in _problems(exc)

    careful = copy_of()  # metrics rewritten to match: only replay can tell
    rewrite(careful, bump, recompute=True)
    validate_submission(careful)
    with pytest.raises(SubmissionError) as exc:
        verify_submission(careful)
    assert "replay mismatch" in _problems(exc) and "reward" in _problems(exc)


def test_fabricated_win_is_caught_by_replay(copy_of: Copy) -> None:
    def fake_win(recs: list[EpisodeRecord]) -> list[EpisodeRecord]:
        i = next(k for k, r in enumerate(recs) if not r.won)
        r = recs[i]
        recs[i] = r.model_copy(
            update={
                "actions": ["open chest"],
                "rewards": [10.0],
                "steps": 1,
                "won": True,
                "score": 1.0,
                "termination": "success",
            }
        )
        return recs

    folder = copy_of()
    rewrite(folder, fake_win, recompute=True)
    validate_submission(folder)  # self-consistent on paper
    with pytest.raises(SubmissionError) as exc:
        verify_submission(folder)
    assert "replay mismatch" in _problems(exc)


def test_added_episode_is_rejected(copy_of: Copy) -> None:
    folder = copy_of()
    rewrite(folder, lambda recs: [*recs, recs[0]], recompute=False)
    with pytest.raises(SubmissionError) as exc:
        validate_submission(folder)
    assert "holds 25 episodes but the manifest declares 2 runs x 12" in _problems(exc)


def test_duplicated_episode_is_rejected(copy_of: Copy) -> None:
    folder = copy_of()
    rewrite(folder, lambda recs: [recs[0], recs[0], *recs[2:]], recompute=False)
    with pytest.raises(SubmissionError) as exc:
        validate_submission(folder)
    assert "duplicated episode" in _problems(exc)


def test_edited_manifest_metric_is_rejected(copy_of: Copy) -> None:
    folder = copy_of()

    def inflate(m: dict[str, Any]) -> None:
        s = m["metrics"]["success"]
        s["mean"], s["high"] = 0.99, 1.0

    edit_manifest(folder, inflate)
    with pytest.raises(SubmissionError) as exc:
        validate_submission(folder)
    assert "metrics.success.mean claims 0.99 but the episodes give" in _problems(exc)


def test_edited_evaluation_seed_is_rejected(copy_of: Copy) -> None:
    folder = copy_of()
    edit_manifest(folder, lambda m: m["evaluation"]["episodes"][3].update(seed=999))
    with pytest.raises(SubmissionError) as exc:
        validate_submission(folder)
    assert "but evaluation episode #3 is" in _problems(exc)


def test_other_category_metric_rejected(copy_of: Copy) -> None:
    folder = copy_of()

    def drop_cat(m: dict[str, Any]) -> None:
        m["metrics"]["per_category"].pop(next(iter(m["metrics"]["per_category"])))

    edit_manifest(folder, drop_cat)
    with pytest.raises(SubmissionError) as exc:
        validate_submission(folder)
    assert "metrics.per_category has categories" in _problems(exc)


@pytest.mark.parametrize("bad", ["../evil", "a/b", ".hidden", "x" * 80, "a..b", "a\\b"])
def test_path_traversal_in_names_is_rejected(copy_of: Copy, bad: str) -> None:
    folder = copy_of()
    edit_manifest(folder, lambda m: m.update(name=bad))
    with pytest.raises(SubmissionError) as exc:
        validate_submission(folder)
    assert "manifest.json: name:" in _problems(exc) and "not a safe name" in _problems(exc)


def test_path_traversal_in_suite_writes_nothing(copy_of: Copy, tmp_path: Path) -> None:
    folder = copy_of()
    edit_manifest(folder, lambda m: m.update(suite="../../outside"))
    root = tmp_path / "lb"
    with pytest.raises(SubmissionError, match="not a safe name"):
        submit_submission(folder, root=root)
    assert not root.exists() and not (tmp_path / "outside").exists()


def test_nan_in_manifest_is_rejected(copy_of: Copy) -> None:
    folder = copy_of()
    text = (folder / "manifest.json").read_text()
    obj = json.loads(text)
    obj["metrics"]["score"]["mean"] = "NAN_HERE"
    (folder / "manifest.json").write_text(json.dumps(obj).replace('"NAN_HERE"', "NaN"))
    with pytest.raises(SubmissionError) as exc:
        validate_submission(folder)
    assert "non-finite number NaN" in _problems(exc)


def test_deeply_nested_json_is_rejected(copy_of: Copy) -> None:
    folder = copy_of()
    (folder / "manifest.json").write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(SubmissionError, match="nested too deeply"):
        validate_submission(folder)
    folder = copy_of()
    path = folder / "episodes.jsonl.gz"
    path.write_bytes(gzip.compress(("[" * 200_000 + "]" * 200_000 + "\n").encode()))
    with pytest.raises(SubmissionError, match="nested too deeply"):
        validate_submission(folder)


def test_infinite_reward_in_episodes_is_rejected(copy_of: Copy) -> None:
    folder = copy_of()
    path = folder / "episodes.jsonl.gz"
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    obj = json.loads(lines[0])
    obj["rewards"] = [float("inf")] * len(obj["rewards"]) or [float("inf")]
    lines[0] = json.dumps(obj)  # writes Infinity
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    with pytest.raises(SubmissionError) as exc:
        validate_submission(folder)
    assert "episodes.jsonl.gz" in _problems(exc) and "Infinity" in _problems(exc)


def test_truncated_gzip_is_rejected(copy_of: Copy) -> None:
    folder = copy_of()
    path = folder / "episodes.jsonl.gz"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(SubmissionError) as exc:
        validate_submission(folder)
    assert "truncated or corrupt gzip" in _problems(exc)


def test_gzip_bomb_is_rejected(copy_of: Copy, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = copy_of()
    monkeypatch.setattr(validate_mod, "MAX_EPISODES_DECOMPRESSED", 1000)
    with pytest.raises(SubmissionError) as exc:
        validate_submission(folder)
    assert "decompressed size exceeds 1000 bytes" in _problems(exc)


def test_oversized_file_is_rejected(copy_of: Copy, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = copy_of()
    monkeypatch.setattr(validate_mod, "MAX_EPISODES_BYTES", 100)
    with pytest.raises(SubmissionError) as exc:
        validate_submission(folder)
    assert "episodes.jsonl.gz is" in _problems(exc) and "the limit is 100 bytes" in _problems(exc)


def test_unknown_task_id_is_rejected(copy_of: Copy) -> None:
    folder = copy_of()
    edit_manifest(folder, lambda m: m["task"].update(id="proxmo/NoSuchTask-v0"))
    with pytest.raises(SubmissionError) as exc:
        validate_submission(folder)
    assert "unknown task id" in _problems(exc) and "proxmo/NoSuchTask-v0" in _problems(exc)


def test_unknown_split_is_rejected(copy_of: Copy) -> None:
    folder = copy_of()
    edit_manifest(folder, lambda m: m["evaluation"].update(split="secret"))
    with pytest.raises(SubmissionError) as exc:
        validate_submission(folder)
    assert "evaluation split 'secret' is not a split of proxmo/KeyRoom-v0" in _problems(exc)


def test_extra_files_and_links_are_rejected(copy_of: Copy, tmp_path: Path) -> None:
    folder = copy_of()
    (folder / "notes.txt").write_text("hi")
    with pytest.raises(SubmissionError, match=r"unexpected entry 'notes\.txt'"):
        validate_submission(folder)
    folder = copy_of()
    target = tmp_path / "elsewhere.json"
    target.write_text((folder / "manifest.json").read_text())
    (folder / "manifest.json").unlink()
    os.symlink(target, folder / "manifest.json")
    with pytest.raises(SubmissionError, match="must be a regular file"):
        validate_submission(folder)


def test_env_version_mismatch_fails_verify(copy_of: Copy) -> None:
    def old_version(recs: list[EpisodeRecord]) -> list[EpisodeRecord]:
        return [r.model_copy(update={"env_version": "0"}) for r in recs]

    folder = copy_of()
    rewrite(folder, old_version, recompute=False)
    edit_manifest(folder, lambda m: m["task"].update(env_version="0"))
    validate_submission(folder)
    with pytest.raises(SubmissionError, match="installed env is version '1'"):
        verify_submission(folder)


def test_submit_publishes_atomically_and_never_overwrites(
    clean_submission: Path, tmp_path: Path
) -> None:
    root = tmp_path / "leaderboards"
    dest = submit_submission(clean_submission, root=root)
    assert dest == root / "keyroom" / "submissions" / "2026-01-02_random-test"
    assert sorted(p.name for p in dest.iterdir()) == ["episodes.jsonl.gz", "manifest.json"]
    assert [p.name for p in (root / "keyroom" / "submissions").iterdir()] == [dest.name]
    validate_submission(dest, published=True)
    with pytest.raises(SubmissionError, match="already exists"):
        submit_submission(clean_submission, root=root)
    results = validate_all(root)
    assert list(results) == [dest] and not isinstance(results[dest], SubmissionError)


def test_submit_of_tampered_submission_writes_nothing(copy_of: Copy, tmp_path: Path) -> None:
    def bump(recs: list[EpisodeRecord]) -> list[EpisodeRecord]:
        recs[5] = recs[5].model_copy(update={"rewards": [0.5] * len(recs[5].rewards)})
        return recs

    folder = copy_of()
    rewrite(folder, bump, recompute=True)
    root = tmp_path / "leaderboards"
    with pytest.raises(SubmissionError, match="replay mismatch"):
        submit_submission(folder, root=root)
    assert not root.exists()


def test_published_folder_must_match_manifest(clean_submission: Path, tmp_path: Path) -> None:
    root = tmp_path / "lb"
    dest = submit_submission(clean_submission, root=root)
    moved = dest.parent / "2026-01-02_renamed"
    dest.rename(moved)
    with pytest.raises(SubmissionError, match="should be '2026-01-02_random-test'"):
        validate_submission(moved, published=True)


def test_episodes_changed_after_the_manifest_are_rejected(copy_of: Copy) -> None:
    folder = copy_of()
    digest = json.loads((folder / "manifest.json").read_text())["episodes_sha256"]
    assert digest is not None and len(digest) == 64
    # two runs' copies of one evaluation episode swapped: same metrics, same tasks, other file
    rewrite(
        folder,
        lambda recs: [*recs[12:13], *recs[1:12], recs[0], *recs[13:]],
        recompute=False,
        redigest=False,
    )
    with pytest.raises(SubmissionError) as exc:
        validate_submission(folder)
    assert "the episodes were changed after the manifest was written" in _problems(exc)

"""The manifest schema: exported JSON Schema up to date, and its own consistency rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from proxmo_bench.leaderboard.schema import (
    AgentInfo,
    Manifest,
    check_folder_name,
    check_safe_name,
    load_manifest_json,
    manifest_json_schema,
)

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schemas" / "manifest.schema.json"


def test_exported_json_schema_is_up_to_date() -> None:
    on_disk = json.loads(SCHEMA_FILE.read_text())
    assert on_disk == manifest_json_schema(), (
        "schemas/manifest.schema.json is stale; regenerate it with "
        'python -c "from proxmo_bench.leaderboard import export_json_schema as e; '
        "e('schemas/manifest.schema.json')\""
    )


def test_json_schema_names_the_provenance_fields() -> None:
    props = manifest_json_schema()["properties"]
    for key in (
        "package",
        "task",
        "data",
        "evaluation",
        "agent",
        "training",
        "runs",
        "hardware",
        "metrics",
    ):
        assert key in props


@pytest.mark.parametrize("good", ["grpo", "keyroom_light-1", "A.b_c-9"])
def test_safe_names_accepted(good: str) -> None:
    assert check_safe_name(good) == good


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "..",
        "../x",
        "/abs",
        "a/b",
        ".dot",
        "-dash",
        "a b",
        "é",
        "grpo\n",  # `$` alone would match before a final newline
        "grpo\r",
        "grpo\x00",
        "a\tb",
        "gr\u0440o",  # Cyrillic er, a look-alike of "p"
        "ｇｒｐｏ",  # full-width letters
        "x" * 65,
    ],
)
def test_unsafe_names_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="not a safe name"):
        check_safe_name(bad)


def test_folder_names_take_any_safe_name_after_the_date() -> None:
    name = "quickstart-setting-alfworld-v0-reinforce_pp-relational"  # 54 characters
    assert check_folder_name(f"2026-12-02_{name}") == f"2026-12-02_{name}"
    assert check_folder_name("2026-12-02_" + "x" * 64)
    for bad in ("2026-12-02_" + "x" * 65, "2026-12-02_../x", "2026-1-2_x", "x" * 20, "2026-12-02_"):
        with pytest.raises(ValueError, match="not a safe name"):
            check_folder_name(bad)


def test_agent_must_be_pinned() -> None:
    with pytest.raises(ValidationError, match="revision or a weights_sha256"):
        AgentInfo(name="x", kind="llm", model_id="some/model")


def test_manifest_json_rejects_nan_and_non_objects() -> None:
    with pytest.raises(ValueError, match="non-finite number NaN"):
        load_manifest_json('{"a": NaN}')
    with pytest.raises(ValueError, match="JSON object"):
        load_manifest_json("[1, 2]")


def test_manifest_consistency_rules(clean_submission: Path) -> None:
    obj = json.loads((clean_submission / "manifest.json").read_text())
    Manifest.model_validate(obj)
    twice = json.loads(json.dumps(obj))
    twice["runs"][1]["seed"] = twice["runs"][0]["seed"]
    with pytest.raises(ValidationError, match="runs repeat a seed"):
        Manifest.model_validate(twice)
    short = json.loads(json.dumps(obj))
    short["runs"][0]["n_episodes"] = 3
    with pytest.raises(ValidationError, match="every run plays the same evaluation episodes"):
        Manifest.model_validate(short)
    rep = json.loads(json.dumps(obj))
    rep["evaluation"]["episodes"][1] = rep["evaluation"]["episodes"][0]
    with pytest.raises(ValidationError, match="each evaluation episode must appear once"):
        Manifest.model_validate(rep)

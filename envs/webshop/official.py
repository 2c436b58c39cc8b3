"""Read upstream WebShop's data files from a folder (``WEBSHOP_DATA`` or ``data_dir=``).

Files looked for (first match wins; the project never ships them, see ARCHITECTURE "Data sources"):

- products: ``items_shuffle_1000.json``, ``items_shuffle.json``, else any ``items_shuffle*.json``;
- human instructions: ``items_human_ins.json``, else every ``items_human_ins*.json`` merged;
- annotations and synthetic instructions: ``items_ins_v2_1000.json``, ``items_ins_v2.json``.

Goals (``goals=``): ``"human"`` (upstream's default), ``"synthetic"`` (needs ``items_ins_v2``),
``"attributes"`` (our attribute goals, with the attribute phrases of the instruction files as
vocabulary; for samples whose products have no instructions), or ``"auto"``: human goals when
any product has one, else synthetic goals when annotations exist, else an error saying so.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from proxmo_bench.envs.webshop.goals import attribute_goals, human_goals, synthetic_goals
from proxmo_bench.envs.webshop.products import DataError, convert_products, product_prices

DATA_ENV_VAR = "WEBSHOP_DATA"
PRODUCT_FILES = ("items_shuffle_1000.json", "items_shuffle.json")
HUMAN_FILES = ("items_human_ins.json",)
ANNOTATION_FILES = ("items_ins_v2_1000.json", "items_ins_v2.json")
GOAL_MODES = ("auto", "human", "synthetic", "attributes")
_INSTRUCTION_KEYS = ("instruction", "instruction_attributes", "instruction_options")


def resolve_data_dir(data_dir: str | os.PathLike[str] | None) -> Path:
    """``data_dir`` or ``$WEBSHOP_DATA``, checked to be a folder."""
    chosen = data_dir if data_dir is not None else os.environ.get(DATA_ENV_VAR)
    if not chosen:
        raise ValueError(
            "source='official' needs the WebShop data: pass data_dir=... or set WEBSHOP_DATA "
            "(get it with `proxmo-bench data fetch webshop --accept-license`; WebShop's data is "
            "under Princeton's research-only licence)"
        )
    path = Path(chosen).expanduser()
    if not path.is_dir():
        raise ValueError(f"WebShop data folder {str(path)!r} does not exist or is not a folder")
    return path


def _read_json(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path.name}: not valid JSON ({exc.msg} at char {exc.pos})") from None


def _first_existing(folder: Path, names: tuple[str, ...], pattern: str | None) -> list[Path]:
    for name in names:
        if (folder / name).is_file():
            return [folder / name]
    return sorted(folder.glob(pattern)) if pattern else []


def _check_instructions(data: Any, name: str) -> dict[str, list[dict[str, Any]]]:
    if not isinstance(data, dict):
        raise DataError(f"{name}: must be a JSON object mapping ASIN -> list of instructions")
    for asin, entries in data.items():
        if not isinstance(entries, list):
            raise DataError(f"{name}: entry {asin!r} must be a list of instruction objects")
        for j, ins in enumerate(entries):
            if not isinstance(ins, dict):
                raise DataError(f"{name}: {asin}[{j}] must be an object")
            for key in _INSTRUCTION_KEYS:
                if key not in ins:
                    raise DataError(f"{name}: {asin}[{j}] has no field {key!r}")
            if not isinstance(ins["instruction"], str):
                raise DataError(f"{name}: {asin}[{j}] field 'instruction' must be a string")
            for key in ("instruction_attributes", "instruction_options"):
                if not isinstance(ins[key], list):
                    raise DataError(f"{name}: {asin}[{j}] field {key!r} must be a list")
    return data


def load_official(
    data_dir: str | os.PathLike[str] | None,
    *,
    goals: str = "auto",
    num_products: int | None = None,
) -> tuple[list[dict[str, Any]], dict[str, float], list[dict[str, Any]], str]:
    """Products, prices, goals (unsplit, upstream order) and a description of what was read.

    Raises:
        ValueError: no data folder, no product file, an unknown ``goals`` mode, or no goals.
        DataError: a file is not valid JSON or misses a field (the message names both).
    """
    if goals not in GOAL_MODES:
        raise ValueError(f"goals must be one of {list(GOAL_MODES)}, got {goals!r}")
    folder = resolve_data_dir(data_dir)
    product_files = _first_existing(folder, PRODUCT_FILES, "items_shuffle*.json")
    if not product_files:
        raise ValueError(
            f"no WebShop product file in {str(folder)!r}: expected one of {list(PRODUCT_FILES)}"
        )
    product_file = product_files[0]
    raw = _read_json(product_file)
    if not isinstance(raw, list):
        raise DataError(f"{product_file.name}: must be a JSON list of product objects")
    if num_products is not None:
        raw = raw[:num_products]

    annotations: dict[str, Any] | None = None
    annotation_files = _first_existing(folder, ANNOTATION_FILES, None)
    if annotation_files:
        annotations = _read_json(annotation_files[0])
        if not isinstance(annotations, dict):
            raise DataError(f"{annotation_files[0].name}: must be a JSON object keyed by ASIN")
    products = convert_products(raw, source_file=product_file.name, annotations=annotations)
    if not products:
        raise DataError(f"{product_file.name}: holds no usable product")
    prices = product_prices(products)

    instructions: dict[str, list[dict[str, Any]]] = {}
    human_files = _first_existing(folder, HUMAN_FILES, "items_human_ins*.json")
    for path in human_files:
        instructions.update(_check_instructions(_read_json(path), path.name))

    read = [product_file.name, *(p.name for p in human_files), *(p.name for p in annotation_files)]
    chosen: list[dict[str, Any]] = []
    mode = goals
    if goals in ("auto", "human"):
        chosen = human_goals(products, prices, instructions)
        mode = "human"
    if not chosen and (goals == "synthetic" or (goals == "auto" and annotations is not None)):
        chosen = synthetic_goals(products, prices)
        mode = "synthetic"
    if goals == "attributes":
        vocabulary = [
            a
            for entries in instructions.values()
            for ins in entries
            for a in [*ins.get("attributes", []), *ins["instruction_attributes"]]
        ]
        for note in (annotations or {}).values():
            if isinstance(note, dict):
                vocabulary += list(note.get("attributes") or [])
        if not vocabulary:
            raise ValueError(
                f"goals='attributes' needs attribute phrases from items_human_ins*.json or "
                f"items_ins_v2*.json in {str(folder)!r}; none were found"
            )
        chosen = attribute_goals(products, prices, vocabulary)
    if not chosen:
        raise ValueError(
            f"no WebShop goals from {read} in {str(folder)!r} with goals={goals!r}: no product "
            "has a human instruction (with instruction_attributes) and there is no items_ins_v2 "
            "file for synthetic goals; pass goals='attributes' to build goals from the products' "
            "own text"
        )
    description = f"official:{folder.name}:{'+'.join(read)}:{mode}"
    return products, prices, chosen, description

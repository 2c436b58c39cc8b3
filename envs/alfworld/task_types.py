"""ALFWorld's six task types: upstream names, our short category names, and the mapping between them."""

from __future__ import annotations

#: Upstream task-type name (the prefix of an official ``<task_dir>``) -> category reported in infos.
TASK_TYPE_TO_CATEGORY: dict[str, str] = {
    "pick_and_place_simple": "pick",
    "look_at_obj_in_light": "look",
    "pick_clean_then_place_in_recep": "clean",
    "pick_heat_then_place_in_recep": "heat",
    "pick_cool_then_place_in_recep": "cool",
    "pick_two_obj_and_place": "pick2",
}

CATEGORY_TO_TASK_TYPE: dict[str, str] = {v: k for k, v in TASK_TYPE_TO_CATEGORY.items()}

#: Categories in the order of the published tables.
CATEGORIES: tuple[str, ...] = ("pick", "look", "clean", "heat", "cool", "pick2")


def category_of_task_dir(task_dir: str) -> str:
    """The category of an official task directory name, e.g. ``"pick_two_obj_and_place-Mug-..."``.

    Raises:
        ValueError: the part before the first ``-`` is not one of the six upstream task types.
    """
    prefix = task_dir.split("-", 1)[0]
    try:
        return TASK_TYPE_TO_CATEGORY[prefix]
    except KeyError:
        raise ValueError(
            f"ALFWorld task directory {task_dir!r} does not start with a known task type; "
            f"expected one of {sorted(TASK_TYPE_TO_CATEGORY)}"
        ) from None

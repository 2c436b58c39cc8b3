r"""``proxmo/WebShop-v0``: text-mode WebShop (search, results, item pages, buy), upstream's score.

A task is one goal: ``task_id = "<split>/<goal index>"`` in the split's fixed order (see
:func:`proxmo_bench.envs.webshop.goals.split_goals`). The observation is the page in upstream's
simple text mode (``"Instruction: [SEP] ... [SEP] Back to Search [SEP] ..."``); actions are
``search[<query>]`` (on the search page) and ``click[<clickable>]``, both case-insensitive.
``click[buy now]`` ends the episode: ``info["score"]`` is upstream's score (clipped to 1),
``info["won"]`` is ``score == 1.0`` and the reward is ``reward_scale`` when won, else 0.

Differences from upstream, on purpose: ``search[...]`` is only accepted where the search bar is
shown (upstream also runs it from other pages, although its action lists never offer it), and an
unusable action says so in the observation (upstream repeats the page silently).

Actions are read as upstream's ``parse_action`` reads them (``re.match(r"(.+)\[(.+)\]", a)``), by
the site's linear scans (:func:`~proxmo_bench.envs.webshop.site.bracket_action_end`).
"""

from __future__ import annotations

import os
from typing import Any, ClassVar, cast

from proxmo_bench.env import TextEnv
from proxmo_bench.envs.webshop.catalogue import Catalogue, load_catalogue
from proxmo_bench.envs.webshop.goals import TEST_SIZE
from proxmo_bench.envs.webshop.nouns import load_spacy
from proxmo_bench.envs.webshop.reward import Nouns, OptionRule
from proxmo_bench.envs.webshop.site import (
    NOT_AN_ACTION,
    ShopSession,
    bracket_action_end,
    page_text,
)

__all__ = ["NOT_AN_ACTION", "WebShopEnv", "bracket_action_end"]


class WebShopEnv(TextEnv):
    """Text WebShop over the generated catalogue (default) or upstream's files.

    Args:
        split: ``"train"`` or ``"test"``.
        reward_scale: reward for a purchase with score 1.0 (registered default 10).
        source: ``"generated"`` or ``"official"``.
        data_dir: official data folder (default ``$WEBSHOP_DATA``).
        goals: official goal mode: ``"auto"``, ``"human"``, ``"synthetic"``, ``"attributes"``.
        num_products: official: only the first N products of the product file.
        n_products: generated: catalogue size.
        catalogue_seed: generated: the catalogue's seed.
        test_size: goals in the test split (upstream: 500).
        index_cache_dir: folder to save/load the BM25 index (default ``$WEBSHOP_INDEX_CACHE``).
        option_rule: the purchase score's option rule: ``"env-v1"`` (default; the rule of this
            env version and its published results) or ``"upstream"`` (upstream ``master``'s,
            quirks included; see :mod:`proxmo_bench.envs.webshop.reward`).
        nouns: the type score's noun tagger: ``"heuristic"`` (default, offline) or ``"spacy"``
            (upstream's ``en_core_web_sm``; the ``[webshop-spacy]`` extra).
        search_anywhere: accept ``search[...]`` on every page as upstream's text env does
            (default False: env_version 1 refuses it off the search page, as its published
            episodes were played; the admissible actions list it on the search page either way).
    """

    splits: ClassVar[tuple[str, ...]] = ("train", "test")
    env_version: str = "1"

    def __init__(
        self,
        *,
        split: str = "train",
        reward_scale: float = 10.0,
        render_mode: str | None = None,
        source: str = "generated",
        data_dir: str | os.PathLike[str] | None = None,
        goals: str = "auto",
        num_products: int | None = None,
        n_products: int = 1000,
        catalogue_seed: int = 0,
        test_size: int = TEST_SIZE,
        index_cache_dir: str | os.PathLike[str] | None = None,
        option_rule: str = "env-v1",
        nouns: str = "heuristic",
        search_anywhere: bool = False,
    ) -> None:
        super().__init__(split=split, reward_scale=reward_scale, render_mode=render_mode)
        if option_rule not in ("env-v1", "upstream"):
            raise ValueError(f"option_rule must be 'env-v1' or 'upstream', got {option_rule!r}")
        if nouns not in ("heuristic", "spacy"):
            raise ValueError(f"nouns must be 'heuristic' or 'spacy', got {nouns!r}")
        if nouns == "spacy":
            load_spacy()  # at construction, not at the first purchase (ImportError names the extra)
        self.option_rule = cast(OptionRule, option_rule)
        self.nouns = cast(Nouns, nouns)
        self.search_anywhere = bool(search_anywhere)
        self.source = source
        self.catalogue: Catalogue = load_catalogue(
            source,
            data_dir=data_dir,
            goals=goals,
            num_products=num_products,
            n_products=n_products,
            seed=catalogue_seed,
            test_size=test_size,
            index_cache_dir=index_cache_dir,
        )
        for name in self.splits:
            if not self.catalogue.goals[name]:
                raise ValueError(
                    f"WebShop ({self.catalogue.description}) has no goals in split {name!r}"
                )
        self.session: ShopSession | None = None
        self.task_id = ""
        self._won = False
        self._score = 0.0

    # ---- tasks -------------------------------------------------------------------------------
    #: Held-out episodes are drawn by seeded resets, as the published tables were (pairing).
    eval_draw: ClassVar[str] = "resets"

    def task_ids(self, split: str) -> list[str]:
        """``"<split>/<goal index>"`` of every goal of ``split``, in the split's order."""
        self._check_split(split)
        return [f"{split}/{i}" for i in range(len(self.catalogue.goals[split]))]

    def _parse_task_id(self, task_id: str) -> tuple[str, int]:
        split, _, index = str(task_id).partition("/")
        goals = self.catalogue.goals.get(split)
        if goals is None or not index.isdigit() or int(index) >= len(goals):
            sizes = {k: len(v) for k, v in self.catalogue.goals.items()}
            raise ValueError(
                f"WebShop task_id must be '<split>/<goal index>' with split in {list(sizes)} and "
                f"index below the split size {sizes}; got {task_id!r}"
            )
        return split, int(index)

    def _reset(self, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if "task_id" in options:
            split, index = self._parse_task_id(options["task_id"])
        else:
            split = options["split"]
            index = int(self.np_random.integers(len(self.catalogue.goals[split])))
        self.task_id = f"{split}/{index}"
        self.session = ShopSession(
            self.catalogue,
            self.catalogue.goals[split][index],
            option_rule=self.option_rule,
            nouns=self.nouns,
            search_anywhere=self.search_anywhere,
        )
        self._won, self._score = False, 0.0
        return self._observation(), self._info(True)

    # ---- observation and info ----------------------------------------------------------------
    def _observation(self) -> str:
        assert self.session is not None
        return page_text(self.session.page())

    def _info(self, valid: bool) -> dict[str, Any]:
        s = self.session
        assert s is not None
        page = s.page()
        return {
            "task_id": self.task_id,
            "task_category": str(s.goal["category"]),
            "instruction": str(s.goal["instruction_text"]),
            "admissible_actions": s.available_actions(),
            "anchor": page_text(page, with_instruction=False),
            "action_valid": valid,
            "won": self._won,
            "score": self._score,
            "page": page.name,
        }

    # ---- dynamics ----------------------------------------------------------------------------
    def _step(self, action: str) -> tuple[str, float, bool, dict[str, Any]]:
        s = self.session
        assert s is not None
        outcome = s.act(action)
        if not outcome.valid:
            obs = f"Invalid action: {outcome.message} [SEP] {self._observation()}"
            return obs, 0.0, False, self._info(False)
        reward = 0.0
        info_extra: dict[str, Any] = {}
        if outcome.done:
            self._score = outcome.score
            self._won = outcome.score >= 1.0
            reward = self.reward_scale if self._won else 0.0
            info_extra = {"reward_info": outcome.reward_info, "purchased": dict(s.purchased or {})}
        return self._observation(), reward, outcome.done, {**self._info(True), **info_extra}

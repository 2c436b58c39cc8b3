"""The LLM's attention kernel (``attn_implementation``): chosen from the config, same numbers."""

from __future__ import annotations

import pytest
import torch

from proxmo_bench.agents.llm_agent import LLMAgent
from proxmo_bench.training import TrainConfig
from proxmo_bench.training.trainer import build_policy


def _logits(kernel: str) -> torch.Tensor:
    agent = LLMAgent.from_pretrained("random:tiny", attn_implementation=kernel, seed=3)
    assert agent.model.config._attn_implementation == kernel
    ids = torch.randint(5, 200, (2, 12), generator=torch.Generator().manual_seed(0))
    mask = torch.ones_like(ids)
    mask[0, :4] = 0  # left padding, as batched prompts are
    with torch.no_grad():
        return agent.model(input_ids=ids, attention_mask=mask).logits[:, 4:]


def test_sdpa_and_eager_agree() -> None:
    torch.testing.assert_close(_logits("sdpa"), _logits("eager"), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("kernel", ["eager", "sdpa"])
def test_the_config_reaches_the_model(kernel: str, tmp_path: object) -> None:
    cfg = TrainConfig(
        agent="llm", model="random:tiny", attn_implementation=kernel, out_dir=str(tmp_path)
    )
    policy = build_policy(cfg)
    assert policy.model.config._attn_implementation == kernel  # type: ignore[attr-defined]


def test_an_unknown_kernel_is_a_config_error() -> None:
    from proxmo_bench.training.config import ConfigError

    with pytest.raises(ConfigError, match="attn_implementation: Input should be 'auto'"):
        TrainConfig(agent="llm", attn_implementation="xformers")  # type: ignore[arg-type]

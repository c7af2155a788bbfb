"""Sample plants in Chinese (motor assembly, dairy), deterministic by seed, with injected root causes."""

from zhuisu.samples.generator import SCENARIOS, generate

__all__ = ["SCENARIOS", "generate"]

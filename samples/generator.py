"""The public entry point: generate a sample plant's canonical tables, EPCIS documents and truth file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from zhuisu.errors import BadInput
from zhuisu.samples.common import pick, stream
from zhuisu.samples.dairy import generate_dairy
from zhuisu.samples.faults import SCENARIOS as _ALL
from zhuisu.samples.motor import generate_motor

PLANTS: dict[str, Callable[[int, int, Path, str | None], dict[str, object]]] = {
    "motor": generate_motor,
    "dairy": generate_dairy,
}
SCENARIOS: dict[str, tuple[str, ...]] = {"motor": _ALL, "dairy": _ALL}
MINIMUM = {"motor": 200, "dairy": 60}  # below this a plant has too few lots and shifts for its scenarios


def generate(
    plant: str, units: int, seed: int, out: Path, fault: bool = True, scenario: str | None = None
) -> dict[str, object]:
    """Write a sample plant of ``units`` units (dairy: finished lots) into ``out`` and return its truth."""
    if plant not in PLANTS:
        raise BadInput(f"未知工厂 unknown plant {plant!r}; choose {', '.join(PLANTS)}", where="plant")
    if units < MINIMUM[plant]:
        raise BadInput(f"规模太小 a {plant} plant needs at least {MINIMUM[plant]} units, got {units}", where="units")
    if seed < 0:
        raise BadInput(f"种子须为非负整数 seed must be a non-negative integer, got {seed}", where="seed")
    if not fault and scenario not in (None, "null"):
        raise BadInput(
            f"场景 {scenario!r} 与无根因矛盾 a null plant (no fault) has no scenario; drop one of the two",
            where="scenario",
        )
    if fault and scenario is not None and scenario not in SCENARIOS[plant]:
        raise BadInput(
            f"未知场景 unknown scenario {scenario!r}; choose {', '.join(SCENARIOS[plant])}", where="scenario"
        )
    if fault and scenario is None:
        scenario = pick(stream(seed, plant, "scenario"), SCENARIOS[plant])
    out = Path(out)
    truth = PLANTS[plant](units, seed, out, scenario if fault else None)
    (out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return truth

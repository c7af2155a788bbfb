"""Device and CMMS records: alarms (random and from out-of-spec readings) and maintenance orders."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from zhuisu.samples.common import DAY, HOUR, period_ids
from zhuisu.samples.faults import ForcedOrder
from zhuisu.samples.model import Plant
from zhuisu.samples.names import person_names
from zhuisu.samples.tables import CsvFolder, iso
from zhuisu.samples.texts import calibration_note, corrective_note, preventive_note

ALARM_RATE = 0.4  # spontaneous alarms per machine per day
REPAIR_EVERY = 20.0  # days between breakdowns of one machine, on average
RAISE_ON_OUT_OF_SPEC = 0.3  # share of out-of-spec readings that trip an alarm (others are logged silently)


def write_upkeep(rng: np.random.Generator, plant: Plant, forced: Sequence[ForcedOrder], out: CsvFolder) -> list[str]:
    """Write ``alarms`` and ``maintenance``; return the order ids of the ``forced`` orders, in order."""
    cal = plant.calendar
    technicians = person_names(rng, 6)
    span = cal.end - cal.start
    orders: list[tuple[int, int, float, str, str, int]] = []  # machine, reported, downtime, text, type, forced#
    alarms: list[tuple[int, int, int, str, str, str]] = []  # machine, raised, cleared, code, message, severity
    for m, machine in enumerate(plant.machines):
        kind = machine.kind
        if kind is None:
            continue
        for t in cal.start + np.sort(rng.uniform(0, span, rng.poisson(span / DAY * ALARM_RATE))):
            code, message, severity = kind.alarms[int(rng.integers(len(kind.alarms)))]
            alarms.append((m, int(t), int(t + rng.exponential(600) + 30), code, message, severity))
        for t in cal.start + np.sort(rng.uniform(0, span, rng.poisson(span / DAY / REPAIR_EVERY))):
            failure = kind.failures[int(rng.integers(len(kind.failures)))]
            hours = round(float(rng.uniform(0.5, 6)), 1)
            orders.append((m, int(t), hours, corrective_note(rng, kind, machine.refs, failure), "corrective", -1))
            if rng.random() < 0.5:  # many breakdowns announce themselves with an alarm first
                code, message, severity = kind.alarms[int(rng.integers(len(kind.alarms)))]
                raised = int(t - rng.uniform(60, 5400))
                alarms.append((m, raised, int(t), code, message, severity))
        for every, kind_of, note in (
            (30, "preventive", preventive_note),
            (90, "calibration", calibration_note),
        ):
            if kind_of == "calibration" and not kind.calibrated:
                continue
            for day in np.arange(rng.uniform(0, every), span / DAY, every):
                t = cal.start + int(day) * DAY + int(rng.uniform(9, 15) * HOUR)
                orders.append((m, t, round(float(rng.uniform(0.5, 3)), 1), note(rng, kind, machine.refs), kind_of, -1))
    for i, f in enumerate(forced):
        kind = plant.machines[f.machine].kind
        assert kind is not None
        hours = round(float(rng.uniform(1, 4)), 1)
        if f.note:
            orders.append((f.machine, f.time, hours, f.note, "calibration", i))
        else:  # the repair is finished when the drift begins
            text = corrective_note(rng, kind, plant.machines[f.machine].refs, f.failure)
            orders.append((f.machine, int(f.time - hours * HOUR), hours, text, "corrective", i))
    alarms.extend(_spec_alarms(rng, plant))
    _write_alarms(plant, alarms, out)
    return _write_orders(rng, plant, orders, technicians, len(forced), out)


def _spec_alarms(rng: np.random.Generator, plant: Plant) -> list[tuple[int, int, int, str, str, str]]:
    rows = []
    for param in plant.params.values():
        step = plant.steps[param.step]
        for side, (code, bad) in enumerate(
            zip(param.alarms, (param.values < param.lsl, param.values > param.usl), strict=True)
        ):
            if not code:
                continue
            hit = np.flatnonzero(bad & (rng.random(len(bad)) < RAISE_ON_OUT_OF_SPEC))
            limit = "下限" if side == 0 else "上限"
            for i in hit.tolist():
                t = int(step.start[i]) + 30
                message = f"{param.name}超{limit}：{param.values[i]:g}{param.unit}"
                rows.append((int(step.equipment[i]), t, int(t + rng.uniform(20, 300)), code, message, "严重"))
    return rows


def _write_alarms(plant: Plant, rows: list[tuple[int, int, int, str, str, str]], out: CsvFolder) -> None:
    rows.sort(key=lambda r: (r[1], r[0], r[3]))
    raised = np.array([r[1] for r in rows], dtype="int64")
    out.write(
        "alarms",
        {
            "alarm_id": period_ids("AL", raised, 5),
            "equipment_id": np.array([plant.machines[r[0]].id for r in rows]),
            "code": np.array([r[3] for r in rows]),
            "raised_at": iso(raised),
            "cleared_at": iso(np.array([r[2] for r in rows], dtype="int64")),
            "message": np.array([r[4] for r in rows]),
            "severity": np.array([r[5] for r in rows]),
        },
    )


def _write_orders(
    rng: np.random.Generator,
    plant: Plant,
    rows: list[tuple[int, int, float, str, str, int]],
    technicians: list[str],
    forced: int,
    out: CsvFolder,
) -> list[str]:
    rows.sort(key=lambda r: (r[1], r[0]))
    reported = np.array([r[1] for r in rows], dtype="int64")
    downtime = np.array([r[2] for r in rows])
    ids = period_ids("MO", reported, 4)
    out.write(
        "maintenance",
        {
            "order_id": ids,
            "equipment_id": np.array([plant.machines[r[0]].id for r in rows]),
            "reported_at": iso(reported),
            "text": np.array([r[3] for r in rows]),
            "finished_at": iso(reported + (downtime * HOUR).astype("int64")),
            "technician": np.array(technicians, dtype=object)[rng.integers(len(technicians), size=len(rows))],
            "downtime_h": downtime,
            "type": np.array([r[4] for r in rows]),
        },
    )
    by_forced = {r[5]: str(ids[i]) for i, r in enumerate(rows) if r[5] >= 0}
    return [by_forced[i] for i in range(forced)]

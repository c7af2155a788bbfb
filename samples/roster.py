"""Shift calendar and crew roster: when the plant works, which team is on, who is at which station."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from zhuisu.samples.common import DAY
from zhuisu.samples.names import person_names

SHIFT_SECONDS = 8 * 3600
# Slots of a calendar day in clock order: the night shift opens the day at 00:00.
SHIFTS = (
    ("night", "夜班", "00:00", "08:00"),
    ("day", "早班", "08:00", "16:00"),
    ("mid", "中班", "16:00", "00:00"),
)
SHIFT_IDS = np.array([s[0] for s in SHIFTS], dtype=object)
TEAMS = ("甲班", "乙班", "丙班")
START = int(np.datetime64("2023-11-01T00:00:00", "s").astype("int64"))


class Calendar:
    """Three 8-hour shifts a day; production time is counted in working seconds from the plant's start."""

    def __init__(self, days: int, off_weekdays: Sequence[int] = (), lead: int = 21, tail: int = 30) -> None:
        self.start = START
        self.days = days
        self.lead = lead
        count = (lead + days + tail) * 3
        self.inst_start = START - lead * DAY + np.arange(count, dtype="int64") * SHIFT_SECONDS
        day = np.arange(count) // 3 - lead
        self.slot = np.arange(count) % 3
        self.week = np.floor_divide(day, 7)
        weekday = (int(np.datetime64(START, "s").astype("datetime64[D]").astype("int64")) + 3 + day) % 7
        self.working = ~np.isin(weekday, list(off_weekdays))
        self._work = np.flatnonzero(self.working)
        before = int(np.count_nonzero(self.working[: lead * 3]))
        self._w_start = (np.arange(len(self._work)) - before) * float(SHIFT_SECONDS)
        inside = self.working[lead * 3 : (lead + days) * 3]
        self.work_seconds = float(np.count_nonzero(inside) * SHIFT_SECONDS)
        self.end = START + days * DAY

    def clock(self, w: np.ndarray) -> np.ndarray:
        """Epoch seconds of working-time offsets (negative offsets fall before the start)."""
        k = np.clip(np.searchsorted(self._w_start, w, side="right") - 1, 0, len(self._work) - 1)
        return (self.inst_start[self._work[k]] + (np.asarray(w) - self._w_start[k])).astype("int64")

    def instance(self, t: np.ndarray) -> np.ndarray:
        """Index of the shift instance a time falls in."""
        k = (np.asarray(t, dtype="int64") - self.inst_start[0]) // SHIFT_SECONDS
        return np.clip(k, 0, len(self.inst_start) - 1)

    def shift_of(self, t: np.ndarray) -> np.ndarray:
        """Shift id (``night``, ``day``, ``mid``) of each time."""
        return SHIFT_IDS[self.slot[self.instance(t)]]

    def team(self) -> np.ndarray:
        """Team on duty per shift instance: three teams rotate through the three shifts weekly."""
        return (self.slot + self.week) % 3


@dataclass(frozen=True, slots=True)
class Role:
    """A kind of station a team staffs, e.g. ``press`` with four presses."""

    name: str
    label: str
    stations: int


class Crew:
    """Operators in three rotating teams, floaters who stand in for absentees, day-shift inspectors."""

    def __init__(
        self,
        rng: np.random.Generator,
        calendar: Calendar,
        roles: Sequence[Role],
        floaters: int,
        inspectors: int,
    ) -> None:
        per_team = sum(r.stations for r in roles)
        total = 3 * per_team + floaters + inspectors
        number = rng.permutation(total) + 1  # hire numbers are not grouped by team
        self.ids = np.array([f"OP{n:03d}" for n in number], dtype=object)
        self.names = np.array(person_names(rng, total), dtype=object)
        self.teams = np.array(
            [TEAMS[i // per_team] for i in range(3 * per_team)] + ["机动"] * floaters + ["质检"] * inspectors,
            dtype=object,
        )
        self.members: dict[str, np.ndarray] = {}
        self.roster: dict[str, np.ndarray] = {}
        team = calendar.team()
        spare = np.arange(3 * per_team, 3 * per_team + floaters)
        self.inspectors = np.arange(3 * per_team + floaters, total)
        offset = 0
        for role in roles:
            members = np.array([[t * per_team + offset + s for s in range(role.stations)] for t in range(3)])
            offset += role.stations
            # Station assignments reshuffle every shift; about one in twenty is covered by a floater.
            shuffle = np.argsort(rng.random((len(team), role.stations)), axis=1)
            roster = np.take_along_axis(members[team], shuffle, axis=1)
            absent = rng.random(roster.shape) < 0.05
            cover = spare[(rng.integers(len(spare), size=(len(team), 1)) + np.arange(role.stations)) % len(spare)]
            self.members[role.name] = members
            self.roster[role.name] = np.where(absent, cover, roster)

    def operator(self, role: str, station: np.ndarray, instance: np.ndarray) -> np.ndarray:
        """Operator index standing at ``station`` of ``role`` during each shift instance."""
        return self.roster[role][instance, station]

    def inspector(self, rng: np.random.Generator, count: int) -> np.ndarray:
        """Inspectors (day-shift quality staff) for ``count`` incoming inspections."""
        return self.inspectors[rng.integers(len(self.inspectors), size=count)]

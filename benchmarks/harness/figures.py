"""Figures over runs: a median with its spread, one line (:func:`summary`,
:func:`median_range`) or a whole report (:class:`Report`: every figure printed as
it comes, then per scenario and in a summary table)."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Any, Protocol

from harness.processes import machine


def num(value: float) -> str:
    """``value`` with as many digits as it deserves (``n/a`` for NaN)."""
    if value != value:  # NaN
        return "n/a"
    if abs(value) >= 100 or value == int(value):
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (``p`` in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def median_range(values: list[float], fmt: str = ".1f") -> str:
    """``median (min-max)``; the value alone for one, ``-`` for none."""
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:{fmt}}"
    return f"{statistics.median(values):{fmt}} ({min(values):{fmt}}-{max(values):{fmt}})"


def summary(label: str, values: list[float], unit: str = "ms", fmt: str = ".0f") -> None:
    """Print ``label: median .. unit, min .., max .., stdev .. (n=..)``."""
    print(f"{label}: median {statistics.median(values):{fmt}} {unit}, "
          f"min {min(values):{fmt}}, max {max(values):{fmt}}, "
          f"stdev {statistics.pstdev(values):{fmt}} (n={len(values)})")


@dataclass
class Figure:
    scenario: str
    name: str
    unit: str
    target: str
    values: list[float] = field(default_factory=list)

    def stats(self) -> tuple[float, float, float, float, str]:
        """Median, min, max, stdev over the runs that produced a value, and how many
        did (``2/3`` when one failed)."""
        ok = [x for x in self.values if math.isfinite(x)]
        runs = str(len(ok)) if len(ok) == len(self.values) else f"{len(ok)}/{len(self.values)}"
        if not ok:
            return math.nan, math.nan, math.nan, math.nan, runs
        return statistics.median(ok), min(ok), max(ok), statistics.pstdev(ok), runs

    def spread(self) -> str:
        median, low, high, stdev, runs = self.stats()
        text = f"median {num(median)}"
        if len(self.values) > 1:
            text += f"  (min {num(low)}, max {num(high)}, stdev {num(stdev)}; runs {runs})"
        return text


class HasLogs(Protocol):
    def log_tail(self, lines: int = 40) -> str: ...


class Report:
    """Figures of every run, printed as they come and summed up at the end."""

    def __init__(self) -> None:
        self.figures: dict[tuple[str, str], Figure] = {}
        self.commands: dict[str, str] = {}
        self.notes: dict[str, list[str]] = {}

    def add(self, scenario: str, name: str, value: float, unit: str = "", target: str = "") -> None:
        key = (scenario, name)
        if key not in self.figures:
            self.figures[key] = Figure(scenario, name, unit, target)
        self.figures[key].values.append(float(value))
        print(f"  {name}: {num(value)} {unit}".rstrip(), flush=True)

    def note(self, scenario: str, text: str, *, servers: HasLogs | None = None) -> None:
        """Record a remark; with ``servers``, print the end of their logs too."""
        self.notes.setdefault(scenario, []).append(text)
        print(f"  note: {text}", flush=True)
        if servers is not None:
            print(servers.log_tail(), flush=True)

    def of(self, scenario: str) -> list[Figure]:
        return [f for f in self.figures.values() if f.scenario == scenario]

    def print_scenario(self, scenario: str) -> None:
        runs = max((len(f.values) for f in self.of(scenario)), default=0)
        print(f"\n{scenario}: over {runs} run(s)")
        for fig in self.of(scenario):
            target = f"   [target {fig.target}]" if fig.target else ""
            unit = f" ({fig.unit})" if fig.unit else ""
            print(f"  {fig.name}{unit}: {fig.spread()}{target}")
        print(flush=True)

    def print_summary(self) -> None:
        rows = [("scenario", "figure", "unit", "median", "min", "max", "stdev", "runs", "target")]
        for fig in self.figures.values():
            median, low, high, stdev, runs = fig.stats()
            rows.append((fig.scenario, fig.name, fig.unit, num(median), num(low), num(high),
                         num(stdev), runs, fig.target))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        print("summary")
        for i, row in enumerate(rows):
            cells = (c.ljust(w) if j < 3 else c.rjust(w) if j < 8 else c
                     for j, (c, w) in enumerate(zip(row, widths)))
            print(("  " + "  ".join(cells)).rstrip())
            if i == 0:
                print("  " + "  ".join("-" * w for w in widths))
        for scenario, command in self.commands.items():
            print(f"  {scenario}: {command}")
        for scenario, notes in self.notes.items():
            for text in notes:
                print(f"  {scenario}: {text}")

    def to_json(self) -> dict[str, Any]:
        return {
            "machine": machine(),
            "commands": self.commands,
            "notes": self.notes,
            "figures": [
                {**f.__dict__, "values": [x if math.isfinite(x) else None for x in f.values]}
                for f in self.figures.values()
            ],
        }

"""The counts a unit's evaluation is made of, the rates made of them and the composite score; no database."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

COUNTS = (
    "dispatched",
    "signed_in_time",
    "returned",
    "due",
    "resolved",
    "closed",
    "closed_on_time",
    "verifications",
    "reworks",
    "callbacks",
    "satisfied",
)
# rate name -> (numerator, denominator)
RATES = {
    "response_rate": ("signed_in_time", "dispatched"),
    "resolution_rate": ("resolved", "due"),
    "satisfaction_rate": ("satisfied", "callbacks"),
    "on_time_closure_rate": ("closed_on_time", "closed"),
    "rework_rate": ("reworks", "verifications"),
    "return_rate": ("returned", "dispatched"),
}
# EVALUATION_WEIGHTS key -> rate
SCORED = {"response": "response_rate", "resolution": "resolution_rate", "satisfaction": "satisfaction_rate"}


@dataclass
class UnitEvaluation:
    unit_id: int
    unit: dict
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    weights: dict[str, float] = field(default_factory=lambda: dict(settings.EVALUATION_WEIGHTS))

    @property
    def rates(self) -> dict[str, float | None]:
        return {
            name: (self.counts[num] / self.counts[den] if self.counts[den] else None)
            for name, (num, den) in RATES.items()
        }

    @property
    def score(self) -> float | None:
        rates = self.rates
        weights = self.weights
        used = {key: weights[key] for key, rate in SCORED.items() if rates[rate] is not None and weights[key] > 0}
        total = sum(used.values())
        if not total:
            return None
        return 100 * sum(weight * rates[SCORED[key]] for key, weight in used.items()) / total

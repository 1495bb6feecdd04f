"""Perturbed economies for sweeps and for "next year's plan": multiplicative
log-normal noise on targets, availability and norms (input coefficients)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from counterplan.model import Economy, Entries, Flows


@dataclass(frozen=True)
class Perturbation:
    """σ of the log-normal factor on each target, each availability and each
    input norm (0: unchanged), and the seed that draws them."""

    targets: float = 0.0
    availability: float = 0.0
    norms: float = 0.0
    seed: int = 0

    @property
    def none(self) -> bool:
        return self.targets == self.availability == self.norms == 0.0


def perturb(economy: Economy, p: Perturbation) -> Economy:
    """``economy`` with every target, availability and input norm multiplied by
    exp(σ ε), ε standard normal, drawn from ``p.seed``; outputs are kept."""
    if p.none:
        return economy
    rng = np.random.default_rng([p.seed, 7])
    t, a, f = economy.targets, economy.availability, economy.flows
    targets = Entries(t.item, t.period, t.amount * rng.lognormal(0, p.targets, len(t)),
                      t.weight) if p.targets else t
    availability = Entries(a.item, a.period,
                           a.amount * rng.lognormal(0, p.availability, len(a)),
                           a.weight) if p.availability else a
    factor = np.where(f.amount < 0, rng.lognormal(0, p.norms, len(f)), 1.0) if p.norms \
        else np.ones(len(f))
    flows = Flows(f.technique, f.item, f.amount * factor) if p.norms else f
    return replace(economy, targets=targets, availability=availability, flows=flows)

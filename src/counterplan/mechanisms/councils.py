"""The participatory procedure of Hahnel and Albert (Hahnel 2021, ch. 9;
Szczepanczyk 2023): worker and consumer councils answer indicative prices
with proposals, prices move with each good's relative excess demand, until
every imbalance is under a threshold.

Worker councils are the economy's units (a technique of no unit is a council
of its own); each technique is a production possibility with decreasing
returns, Cobb–Douglas around its norms:

    x_j = K_j Π_i z_ij^α_ij,   α_ij = ρ a_ij / Σ_i a_ij,   Σ_i α_ij = ρ < 1

(a_ij the technique's inputs per unit of activity, products and resources;
ρ the returns to scale).  K_j puts the norms on the function at the
reference activity x⁰_j: the activities of the material balance in an
input-output economy, an equal share of the resource budgets otherwise.  A
council proposes the activity and inputs that maximise social benefit minus
social cost at the prices p (outputs r_j = Σ_i o_ij p_i per unit):

    log x_j = (log K_j + Σ α_ij log α_ij + ρ log r_j − Σ_i α_ij log p_i) / (1 − ρ)
    z_ij = α_ij r_j x_j / p_i

Consumer councils (generated: see :func:`consumer_councils`) have
Cobb–Douglas utility over the targeted products, so council c asks for
β_ck b_c / p_k of product k; the budgets b share the income of the economy,
the value of the resources plus the councils' surplus, so the value of all
excess demand is zero (Walras).  Resources are supplied as available.

The price rule (Hahnel 2020's, as the independent reproduction cited in the
issue found to converge): after each round

    p_i ← p_i · (1 + δ clip(z_i, −1, 1)),   z_i = (D_i − S_i) / S_i,   δ = 0.2

moving every price in proportion to its good's relative excess demand (the
clip keeps prices positive and a good nobody makes from exploding).  The
2023 paper's literal rule did not converge within 250 rounds in that
reproduction; we implement the rule that is known to work and say so.  The
procedure stops when every |z_i| is under the threshold.

Messages, counted as numbers: each round every worker council receives the
price of each item its techniques touch and answers one quantity for each
(2 × flows); every consumer council receives the prices of the targeted
products and answers one quantity each (2 × councils × targets).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from counterplan.errors import CounterplanError, NotInputOutput
from counterplan.mechanisms.blocks import Blocks, blocks_of, resource_cost
from counterplan.mechanisms.result import MechanismResult, measure, trajectory
from counterplan.model import Economy

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class ParticipatoryOptions:
    """``consumers``: consumer councils generated; ``returns``: ρ; ``step``: δ;
    ``thresholds``: the rounds to reach each are recorded, and the procedure
    stops at the smallest; ``start``: initial prices (items × periods), by
    default arbitrary ones drawn from ``seed`` (log-normal around 1, σ = 0.5)."""

    consumers: int = 100
    returns: float = 0.8
    step: float = 0.2
    thresholds: tuple[float, ...] = (0.05, 0.03)
    max_rounds: int = 250
    seed: int = 0
    start: FloatArray | None = field(default=None, compare=False)
    objective: str = "harmony"


@dataclass(frozen=True, eq=False)
class Councils:
    """Consumer councils: budget shares b (councils) and Cobb–Douglas weights
    β (councils × targeted products), each row summing to one."""

    shares: FloatArray
    weights: FloatArray


def consumer_councils(targets: FloatArray, n: int, seed: int) -> Councils:
    """Generated consumer councils for an economy that has none.

    - Budgets: log-normal shares with σ = 0.6, a Gini coefficient of about
      0.33, the usual fit of personal incomes (Aitchison and Brown, *The
      Lognormal Distribution*, 1957); in Hahnel and Albert's scheme the
      allowances follow effort ratings, which vary less than market incomes,
      so this is on the unequal side.
    - Utility weights: β_ck ∝ g_k ε_ck with ε ~ Gamma(2, 1): every council's
      wants scatter around the plan's target mix (the mean of ε is the same
      for all products, so aggregate demand at equal prices follows the
      targets), as in Szczepanczyk (2023), who draws Cobb–Douglas exponents at
      random for each council.
    """
    rng = np.random.default_rng(seed)
    shares = rng.lognormal(0.0, 0.6, n)
    weights = targets[None, :] * rng.gamma(2.0, 1.0, (n, len(targets)))
    return Councils(shares / shares.sum(), weights / weights.sum(axis=1, keepdims=True))


@dataclass(frozen=True, eq=False)
class _Market:
    """One period's market: worker councils' functions, consumer councils, supply."""

    outputs: sp.csr_matrix  # items × techniques (gross outputs o_ij)
    alpha: sp.csr_matrix  # techniques × items (α_ij)
    alpha_t: sp.csr_matrix  # items × techniques
    constant: FloatArray  # log K_j + Σ α log α, per technique
    returns: float
    targeted: NDArray[np.int64]  # item codes of the targeted products
    councils: Councils
    available: FloatArray  # items (resources; zero elsewhere)
    market: NDArray[np.bool_]  # items whose balance counts

    def answer(self, p: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Activities x, supply S and demand D (items) at prices p."""
        revenue = self.outputs.T @ p
        log_x = (self.constant + self.returns * np.log(revenue)
                 - self.alpha @ np.log(p)) / (1 - self.returns)
        x = np.exp(np.minimum(log_x, 600.0))
        spent = revenue * x
        demand = (self.alpha_t @ spent) / p
        income = float(self.available @ p) + (1 - self.returns) * float(spent.sum())
        budgets = self.councils.shares * income
        demand[self.targeted] += (self.councils.weights.T @ budgets) / p[self.targeted]
        supply = self.outputs @ x + self.available
        return x, supply, demand

    def excess(self, p: FloatArray) -> tuple[FloatArray, FloatArray]:
        """One round's proposals: activities x and relative excess demand z
        (zero for items outside the market)."""
        x, supply, demand = self.answer(p)
        return x, np.where(self.market, (demand - supply) / np.maximum(supply, 1e-300), 0.0)


def next_prices(p: FloatArray, z: FloatArray, step: float) -> FloatArray:
    """The price rule: p_i (1 + δ clip(z_i, −1, 1))."""
    return p * (1.0 + step * np.clip(z, -1.0, 1.0))


def participatory(economy: Economy, options: ParticipatoryOptions = ParticipatoryOptions()
                  ) -> MechanismResult:
    """Hahnel and Albert's participatory procedure, period by period."""
    start = time.perf_counter()
    x = np.zeros((economy.n_techniques, economy.n_periods))
    prices = np.ones((economy.n_items, economy.n_periods))
    rows: dict[int, list[float]] = {}
    reached: dict[float, int] = {}
    rounds, converged = 0, True
    for t in range(economy.n_periods):
        market = build_market(economy, t, options)
        p0 = _start_prices(economy, options, t)
        x[:, t], prices[:, t], history, hit = _procedure(market, p0, options, economy, t)
        for k, objective, z in history:
            rows.setdefault(k, [0.0, 0.0])
            rows[k][0] += objective
            rows[k][1] = max(rows[k][1], z)
        for threshold, k in hit.items():
            reached[threshold] = max(reached.get(threshold, 0), k)
        rounds = max(rounds, len(history))
        converged &= min(options.thresholds) in hit
    n_targets = int((economy.targets.amount > 0).sum())
    messages = 2 * rounds * (len(economy.flows) + options.consumers * n_targets)
    return MechanismResult(
        mechanism="participatory", economy=economy, objective_kind=options.objective,
        activity=x, rounds=rounds, messages=messages, seconds=time.perf_counter() - start,
        converged=converged,
        trajectory=trajectory([(k, o, z) for k, (o, z) in sorted(rows.items())]),
        prices=prices, info={"rounds_to": {str(k): v for k, v in reached.items()},
                             "step": options.step, "returns": options.returns})


def _start_prices(economy: Economy, options: ParticipatoryOptions, t: int) -> FloatArray:
    if options.start is not None:
        return np.asarray(options.start, dtype=float)[:, t].copy()
    rng = np.random.default_rng([options.seed, t, 1])
    return rng.lognormal(0.0, 0.5, economy.n_items)


def build_market(economy: Economy, t: int, options: ParticipatoryOptions) -> _Market:
    """The councils of period ``t``, calibrated (see the module docstring)."""
    if not 0 < options.returns < 1:
        raise CounterplanError(f"returns to scale must lie strictly between 0 and 1, "
                               f"not {options.returns}")
    blocks = blocks_of(economy, "participatory")
    inputs = economy.input_matrix.tocsc()  # items × techniques
    total = np.asarray(inputs.sum(axis=0)).ravel()
    if (total <= 0).any():
        raise CounterplanError(f"{int((total <= 0).sum())} technique(s) use no input; the "
                               "participatory procedure needs every technique to use something")
    alpha_t = sp.csr_matrix(inputs @ sp.diags(options.returns / total))
    alpha_t.eliminate_zeros()
    alpha = alpha_t.T.tocsr()
    x0 = _reference_activity(economy, t, blocks)
    log_a = _log_data(sp.csr_matrix(inputs))
    alpha_log_alpha = np.asarray(alpha_t.multiply(_log_data(alpha_t)).sum(axis=0)).ravel()
    alpha_log_a = np.asarray(alpha_t.multiply(log_a).sum(axis=0)).ravel()
    log_k = np.log(x0) - alpha_log_a - options.returns * np.log(x0)
    targeted = economy.targets.item[(economy.targets.period == t)
                                    & (economy.targets.amount > 0)]
    g = economy.target_array()[targeted, t]
    available = np.zeros(economy.n_items)
    available[economy.resources] = blocks.available[:, t]
    used = np.asarray(inputs.sum(axis=1)).ravel() > 0
    made = np.asarray(economy.output_matrix.sum(axis=1)).ravel() > 0
    wanted = used.copy()
    wanted[targeted] = True
    market = wanted & (made | (available > 0))
    return _Market(outputs=economy.output_matrix.tocsr(), alpha=alpha, alpha_t=alpha_t,
                   constant=log_k + alpha_log_alpha, returns=options.returns,
                   targeted=targeted.astype(np.int64),
                   councils=consumer_councils(g, options.consumers, options.seed),
                   available=available, market=market)


def _log_data(m: sp.csr_matrix) -> sp.csr_matrix:
    out = m.copy()
    out.data = np.log(out.data)
    return out


def _reference_activity(economy: Economy, t: int, blocks: Blocks) -> FloatArray:
    """The activities of the material balance (input-output economies), or an
    equal share of the resource budgets for each technique."""
    from counterplan.calc.balance import material_balance

    try:
        balance = material_balance(economy)
        x0 = balance.activity["level"].to_numpy().reshape(economy.n_techniques, -1)[:, t]
    except NotInputOutput:
        cost = resource_cost(blocks, t)
        x0 = 1.0 / (cost * economy.n_techniques)
    positive = x0[x0 > 0]
    floor = positive.min() if len(positive) else 1.0
    return np.maximum(x0, floor * 1e-3)


def _procedure(market: _Market, p: FloatArray, options: ParticipatoryOptions,
               economy: Economy, t: int
               ) -> tuple[FloatArray, FloatArray, list[tuple[int, float, float]],
                          dict[float, int]]:
    history: list[tuple[int, float, float]] = []
    hit: dict[float, int] = {}
    x = np.zeros(economy.n_techniques)
    one_period = np.zeros((economy.n_techniques, economy.n_periods))
    for k in range(1, options.max_rounds + 1):
        x, z = market.excess(p)
        worst = float(np.abs(z).max(initial=0.0))
        one_period[:, t] = x
        history.append((k, measure(economy, one_period, options.objective), worst))
        for threshold in options.thresholds:
            if worst < threshold and threshold not in hit:
                hit[threshold] = k
        if worst < min(options.thresholds):
            break
        p = next_prices(p, z, options.step)
    return x, p, history, hit

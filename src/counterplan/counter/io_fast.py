"""Counter-plans against an input-output plan, answered without an LP solve.

Where the Kantorovich plan has its closed form (every product made by one
single-output technique, no stocks, no bounds; see plan/closed_form.py), with
x(g) = N⁻¹ g and need_r = u_r · x(g), λ = min_r R_r / need_r, and:

- more capacity of r changes R_r: λ' = min_r R'_r / need_r, no solve;
- a new norm changes column j of N by d (and of U): by Sherman–Morrison,
  x' = x − w x_j / (1 + w_j) with w = N⁻¹ d, one sparse solve;
- a pledge x_j ≥ p is one row more: in the space of net outputs
  f = λ g + s (s ≥ 0, surplus) the plan is  max λ  s.t.  Vᵀ f ≤ R,
  zᵀ f ≥ p, with V the embodied resources (Nᵀ V = Uᵀ) and z = N⁻ᵀ e_j, a
  small dense LP of len(R) + 1 rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from counterplan.calc.leontief import IOSystem, io_system
from counterplan.calc.linear import SolveOptions, solve
from counterplan.counter.proposals import CounterPlan, norm_net
from counterplan.model import Economy
from counterplan.plan import closed_form
from counterplan.plan.build import INF, LP, Registry
from counterplan.plan.highs import Status, run_highs
from counterplan.schema import PRODUCT, RESOURCE

FloatArray = NDArray[np.float64]
TOL = 1e-9


@dataclass(frozen=True)
class Answer:
    verdict: str
    share: float
    objective: float
    ratios: FloatArray  # fulfilment of every target entry after
    reason: str


class InputOutputJudge:
    """The closed-form Kantorovich plan of an input-output economy, kept with
    what answering counter-plans needs."""

    def __init__(self, economy: Economy, options: SolveOptions = SolveOptions()):
        self.e, self.options = economy, options
        self.system: IOSystem = io_system(economy)
        s = self.system
        self.position = np.full(economy.n_techniques, -1)
        self.position[s.techniques] = np.arange(len(s.techniques))
        self.product_row = np.full(economy.n_items, -1)
        self.product_row[s.products] = np.arange(len(s.products))
        self.g = economy.target_array()[s.products]
        self.x, _ = solve(s.net, self.g, options)  # x(g) per period
        self.u = sp.csr_matrix(s.requirements[economy.resources])
        self.available = economy.availability_array()[economy.resources]
        self.weights = np.array([economy.objective.weights.get(p, 1.0)
                                 for p in economy.periods])
        self.lambdas = self._lambdas(self.u @ self.x, self.available)
        self._v: FloatArray | None = None

    @staticmethod
    def applies(economy: Economy, kind: str) -> bool:
        return kind == "kantorovich" and closed_form.applies(economy)

    @property
    def objective(self) -> float:
        return float(self.weights @ self.lambdas)

    def _lambdas(self, need: FloatArray, available: FloatArray) -> FloatArray:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(need > 0, available / np.where(need > 0, need, 1.0), np.inf)
        lam = ratio.min(axis=0) if len(ratio) else np.full(self.e.n_periods, np.inf)
        return np.where(self.g.any(axis=0), lam, 0.0)

    def ratios(self, lambdas: FloatArray, surplus: FloatArray | None = None) -> FloatArray:
        t = self.e.targets
        rows = self.product_row[t.item]
        extra = 0.0 if surplus is None else surplus[rows, t.period] / np.where(
            t.amount > 0, t.amount, 1.0)
        return np.where(t.amount > 0, lambdas[t.period] + extra, np.nan)

    # -- the kinds of counter-plan ---------------------------------------------------
    def answer(self, plan: CounterPlan) -> Answer | None:
        """The exact answer, or None where this path does not apply."""
        kinds = plan.kinds
        if kinds == {"capacity"}:
            return self._capacity(plan)
        if kinds == {"norm"} and len({c.technique for c in plan.changes}) == 1:
            return self._norm(plan)
        if kinds == {"pledge"}:
            return self._pledge(plan)
        return None

    def _capacity(self, plan: CounterPlan) -> Answer | None:
        available = self.available.copy()
        for c in plan.changes:
            if self.e.kind_codes[c.item] != RESOURCE:
                return None
            r = int(np.searchsorted(self.e.resources, c.item))
            periods = slice(None) if c.period < 0 else slice(c.period, c.period + 1)
            available[r, periods] += c.value
        lam = self._lambdas(self.u @ self.x, available)
        return self._accepted(lam)

    def _accepted(self, lambdas: FloatArray, surplus: FloatArray | None = None) -> Answer:
        after = float(self.weights @ lambdas)
        before = self.objective
        change = "rises" if after > before + TOL * max(1, before) else \
            "falls" if after < before - TOL * max(1, before) else "stays"
        reason = (f"accepted: it fits, and the plan's objective {change} from {before:.6g} to "
                  f"{after:.6g}" if change != "stays" else
                  "accepted: it fits, and the optimum is unchanged")
        return Answer("accepted", 1.0, after, self.ratios(lambdas, surplus), reason)

    def _norm(self, plan: CounterPlan) -> Answer | None:
        j = plan.changes[0].technique
        k = int(self.position[j])
        if k < 0:
            return None
        d = np.zeros(len(self.system.products))
        du = np.zeros(len(self.e.resources))
        f = self.e.flows
        for c in plan.changes:
            old, new = norm_net(f.amount[(f.technique == j) & (f.item == c.item)], c.value)
            kind = self.e.kind_codes[c.item]
            if kind == PRODUCT and self.product_row[c.item] >= 0:
                d[self.product_row[c.item]] += new - old
            elif kind == RESOURCE:
                du[int(np.searchsorted(self.e.resources, c.item))] += old - new
            else:
                return None
        x = self.x
        if d.any():
            w, _ = solve(self.system.net, d, self.options)
            pivot = 1.0 + w[k]
            if pivot <= TOL:
                return None  # the table would no longer be productive: the LP decides
            x = x - np.outer(w, x[k]) / pivot
            if x.min(initial=0.0) < -TOL * max(1.0, float(np.abs(x).max())):
                return None
        need = self.u @ x + np.outer(du, x[k])
        lambdas = self._lambdas(need, self.available)
        if not np.all(lambdas <= 1e12 * max(1.0, float(self.lambdas.max(initial=1.0)))):
            return None  # some target would need nothing scarce: the LP explains it
        return self._accepted(lambdas)

    # -- pledges: the plan in the space of net outputs --------------------------------
    def embodied(self) -> FloatArray:
        """V: resources embodied per unit of each product (products × resources)."""
        if self._v is None:
            self._v, _ = solve(self.system.net.T.tocsr(), self.u.T.toarray(), self.options)
        return self._v

    def _pledge(self, plan: CounterPlan) -> Answer | None:
        by_period: dict[int, list[tuple[int, float]]] = {}
        for c in plan.changes:
            k = int(self.position[c.technique])
            if k < 0:
                return None
            for t in (range(self.e.n_periods) if c.period < 0 else [c.period]):
                by_period.setdefault(t, []).append((k, c.value))
        rows = {k for pledges in by_period.values() for k, _ in pledges}
        z = {k: solve(self.system.net.T.tocsr(), np.eye(1, len(self.system.products), k)[0],
                      self.options)[0] for k in rows}
        shares = {t: self._share(t, p, z) for t, p in by_period.items()}
        share = min(s for s, _ in shares.values())
        lam, surplus = self.lambdas.copy(), np.zeros_like(self.g)
        for t, pledges in by_period.items():
            solution = self._net_output_lp(t, [(k, share * v) for k, v in pledges], z)
            if solution is None:
                return None
            lam[t], surplus[:, t] = solution
        if share >= 1 - TOL:
            return self._accepted(lam, surplus)
        binding = sorted({(r, t) for t, (s, rows) in shares.items() if s <= share + TOL
                          for r in rows})
        limits = "; ".join(f"{self.e.items.index[self.e.resources[r]]} in {self.e.periods[t]}"
                           f" ({self.available[r, t]:.6g} available)" for r, t in binding)
        verdict = "partial" if share > TOL else "rejected"
        head = f"only {share:.4g} of it fits" if share > TOL else "nothing of it fits"
        after = float(self.weights @ lam)
        return Answer(verdict, share if share > TOL else 0.0,
                      after if share > TOL else self.objective, self.ratios(lam, surplus),
                      f"{head}: even with every target given up, the pledge needs more "
                      f"than there is of {limits or 'the resources'}")

    def _dense_lp(self, t: int, pledges: list[tuple[int, float]], z: dict[int, FloatArray],
                  share_column: bool) -> LP:
        """Rows Vᵀ f ≤ R_t and zᵀ f ≥ p; columns λ (or θ), then s ≥ 0."""
        v = self.embodied()
        n = len(self.system.products)
        g = self.g[:, t]
        first = np.concatenate([v.T @ g, [z[k] @ g for k, _ in pledges]])
        if share_column:  # max θ with λ = 0: the pledges alone
            first = np.concatenate([np.zeros(v.shape[1]), [-p for _, p in pledges]])
        body = np.vstack([v.T] + [z[k][None, :] for k, _ in pledges])
        matrix = sp.csc_matrix(np.column_stack([first, body]))
        lower = np.concatenate([np.full(v.shape[1], -INF),
                                [0.0 if share_column else p for _, p in pledges]])
        upper = np.concatenate([self.available[:, t], np.full(len(pledges), INF)])
        top = 1.0 if share_column else INF
        return LP(matrix, np.concatenate([[1.0], np.zeros(n)]),
                  np.zeros(n + 1), np.concatenate([[top], np.full(n, INF)]),
                  lower, upper, 1, Registry(), Registry())

    def _share(self, t: int, pledges: list[tuple[int, float]], z: dict[int, FloatArray]
               ) -> tuple[float, list[int]]:
        """The largest share of the pledges period t allows, and the resources
        that bind it."""
        solution = run_highs(self._dense_lp(t, pledges, z, share_column=True))
        if solution.status != Status.OPTIMAL:
            return 0.0, []
        n_r = len(self.e.resources)
        binding = [int(r) for r in np.flatnonzero(np.abs(solution.row_dual[:n_r]) > TOL)]
        return float(np.clip(solution.x[0], 0, 1)), binding

    def _net_output_lp(self, t: int, pledges: list[tuple[int, float]],
                       z: dict[int, FloatArray]) -> tuple[float, FloatArray] | None:
        solution = run_highs(self._dense_lp(t, pledges, z, share_column=False))
        if solution.status != Status.OPTIMAL:
            return None
        return float(solution.x[0]), solution.x[1:]

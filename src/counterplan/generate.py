"""Synthetic economies for tests and benchmarks, at any size up to 10⁷ products.

Every product ``j`` is made by one technique ``p<j>`` (one unit of output per
unit of activity) from about ``inputs`` other products.  Who supplies whom
follows preferential attachment: the suppliers of every technique are drawn
from a Zipf law over product ranks, P(rank r) = ln((r + 2)/(r + 1)) / ln(n + 1)
(the floor of a log-uniform variable, so a closed-form inverse CDF), and the
ranks are scattered over the product ids by an affine bijection mod n (ids
say nothing about size, as in a real classification).  A few hub industries
are used by most techniques (the top one by about 70 %), most products by a
handful.  Repeated draws of the same supplier are merged (a technique may use
its own product: own use), and the number of draws is calibrated so that the
*distinct* inputs average ``inputs`` per technique.

Each technique's input coefficients sum to a share drawn uniformly in
[0.2, 0.8], split by exponential weights: every column sum of A is below one,
so the table is productive.  Every technique uses labour (a ``labour``
resource, 0.1 to 1 hour per unit); labour availability is
``LABOUR_SLACK`` times what the targets need, computed here from the labour
values (a solve to ``NEED_RTOL``).  Targets (final deliveries) go to about
half of the products and grow by 0 to 5 % a period.

With ``stocks=True`` each product ``j`` also has a capacity stock ``k<j>``
(depreciation 5 %): technique ``p<j>`` needs 0.5 to 2 units of it per unit of
activity, and an investment technique ``invest-<j>`` makes one unit of it from
about three products (again drawn by preferential attachment) and labour.  Its
start level is 5 % above what the first period's targets need.

Everything is vectorised (no Python loop per product or per flow), made in
blocks of ``BLOCK`` techniques written straight into the final arrays (int32
positions, float64 amounts: 16 bytes a flow, and no full-size temporary), and
deterministic from the seed.  Notation: n products, k inputs per product, A
the input coefficients (products × techniques), l labour per unit of activity,
f final deliveries, v = l + Aᵀv labour values, x = f + A x gross output.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import scipy.sparse as sp
from numpy.typing import NDArray

from counterplan.calc.linear import SolveOptions, solve_operator
from counterplan.errors import CounterplanError
from counterplan.model import Economy, Entries, Flows, Objective

IntArray = NDArray[np.int32]
FloatArray = NDArray[np.float64]

#: Labour available per period, as a multiple of what the targets need.
LABOUR_SLACK = 1.05
#: The same with stocks, leaving labour for investment.
LABOUR_SLACK_STOCKS = 1.25
#: With sectors: the share of inputs drawn from a product's own sector, and how many
#: supplier sectors each sector draws the rest from.
LOCAL_SHARE = 0.8
SUPPLIER_SECTORS = 3
#: Depreciation of every capacity stock.
DEPRECIATION = 0.05
#: Products drawn (before merging repeats) per investment technique.
INVESTMENT_INPUTS = 3
#: Number of digits in ids, at least (``p0000042``).
ID_DIGITS = 7
#: Techniques generated at a time: temporaries stay small and are reused.
BLOCK = 1 << 13
#: Relative residual of the solves that size labour and capacity (slack dwarfs it).
NEED_RTOL = 1e-4


@dataclass(frozen=True)
class GeneratorOptions:
    """What :func:`generate` makes.

    ``inputs`` is the mean number of distinct inputs per technique; by default
    round(log2(products)) + 5, at most ``products // 2``.
    """

    products: int
    inputs: int | None = None
    periods: int = 1
    seed: int = 0
    stocks: bool = False
    labour: bool = True
    #: 0: suppliers drawn from the whole economy; k > 0: products in k sectors of
    #: neighbouring ids, drawing ``LOCAL_SHARE`` of their inputs from their own
    #: sector and the rest from ``SUPPLIER_SECTORS`` supplier sectors (as real tables do)
    sectors: int = 0

    def __post_init__(self) -> None:
        if self.products < 2:
            raise CounterplanError(f"products must be at least 2, not {self.products}")
        if self.inputs is not None and not 1 <= self.inputs <= self.products // 2:
            raise CounterplanError(f"inputs must be between 1 and products // 2 "
                                   f"= {self.products // 2}, not {self.inputs}")
        if self.periods < 1:
            raise CounterplanError(f"periods must be at least 1, not {self.periods}")
        if not 0 <= self.sectors <= self.products // 2:
            raise CounterplanError(f"sectors must be between 0 and products // 2 "
                                   f"= {self.products // 2}, not {self.sectors}")

    @property
    def mean_inputs(self) -> int:
        if self.inputs is not None:
            return self.inputs
        return max(1, min(round(math.log2(self.products)) + 5, self.products // 2))


def generate(options: GeneratorOptions) -> Economy:
    """A random productive economy in input-output form (see the module docstring)."""
    rng = np.random.default_rng(options.seed)
    n, periods = options.products, options.periods
    layout = _Layout(n, options.labour, options.stocks)
    rank_to_product: _Relabel | _Sectors = _Sectors.draw(rng, n, options.sectors) \
        if options.sectors else _Relabel.draw(rng, n)
    draws = _draws(rng, n, options.mean_inputs)
    investment_draws = (_draws(rng, n, min(INVESTMENT_INPUTS, n // 2)) if options.stocks
                        else draws[:0])
    fixed = 1 + options.labour + options.stocks * (2 + options.labour)  # flows per product
    flows = _FlowArrays(fixed * n + int(draws.sum()) + int(investment_draws.sum()))
    products = np.arange(n, dtype=np.int32)
    flows.add(products, products, np.ones(n))
    start = flows.size
    counts = _add_inputs(rng, flows, 0, draws, rank_to_product, (0.2, 0.8))
    inputs = flows.csr(start, counts, n)  # −Aᵀ, techniques × products, sharing the flows
    final = _final_demand(rng, n, periods)
    availability: list[tuple[IntArray, IntArray, FloatArray]] = []
    if options.labour:
        labour = rng.uniform(0.1, 1.0, n)
        flows.add(products, np.full(n, layout.labour, dtype=np.int32), -labour)
        values = _solve(lambda v: v + inputs @ v, labour)  # v = l + Aᵀ v
        slack = LABOUR_SLACK_STOCKS if options.stocks else LABOUR_SLACK
        availability.append((np.full(periods, layout.labour, dtype=np.int32),
                             np.arange(periods, dtype=np.int32), slack * (values @ final)))
    if options.stocks:
        gross = _solve(lambda x: x + inputs.T @ x, final[:, 0])  # x = f + A x
        availability.append(_add_stocks(rng, layout, flows, investment_draws,
                                         rank_to_product, gross))
    merged = _merged(flows.flows()) if options.sectors else flows.flows()
    return _economy(options, layout, merged, availability, _targets(final))


def _merged(flows: Flows) -> Flows:
    """One flow per (technique, item): folding ranks into sectors can draw the
    same supplier twice; their amounts add up."""
    key = flows.technique.astype(np.int64) << 32 | flows.item.astype(np.int64)
    order = np.argsort(key, kind="stable")
    key = key[order]
    first = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    amount = np.add.reduceat(flows.amount[order], first)
    return Flows(technique=(key[first] >> 32).astype(np.int32),
                 item=(key[first] & 0xFFFFFFFF).astype(np.int32), amount=amount)


def _draws(rng: np.random.Generator, n: int, k: int) -> IntArray:
    """Suppliers drawn per technique, before merging repeats: 1 + Poisson(λ)."""
    return (1 + rng.poisson(_draw_rate(n, k), n)).astype(np.int32)


@dataclass(frozen=True)
class _Relabel:
    """Product of each supplier rank: r ↦ (a r + c) mod n with a coprime to n,
    a bijection that scatters the hubs over the ids without a lookup table
    (a table of 10⁷ entries made every draw a cache miss)."""

    n: int
    a: int
    c: int

    @classmethod
    def draw(cls, rng: np.random.Generator, n: int) -> _Relabel:
        a = int(rng.integers(1, n))
        while math.gcd(a, n) != 1:
            a = a % (n - 1) + 1
        return cls(n, a, int(rng.integers(n)))

    def __call__(self, rank: IntArray, technique: IntArray) -> IntArray:
        product = rank.astype(np.int64)
        product *= self.a
        product += self.c
        product %= self.n
        return product.astype(np.int32)


class _Sectors:
    """Suppliers with sector structure: product ids in ``k`` contiguous
    sectors; a draw is local (the technique's own sector) with probability
    ``LOCAL_SHARE``, else from one of the sector's ``SUPPLIER_SECTORS``
    supplier sectors (drawn once).  Within a sector the supplier rank, folded
    to the sector's size, keeps the Zipf law: each sector has its hubs."""

    def __init__(self, n: int, k: int, suppliers: IntArray, rng: np.random.Generator):
        self.n, self.k, self.suppliers, self.rng = n, k, suppliers, rng
        self.bounds = np.linspace(0, n, k + 1).astype(np.int64)

    @classmethod
    def draw(cls, rng: np.random.Generator, n: int, k: int) -> _Sectors:
        offsets = rng.integers(1, max(k, 2), (k, SUPPLIER_SECTORS))
        suppliers = (np.arange(k)[:, None] + offsets) % k
        return cls(n, k, suppliers.astype(np.int32), rng)

    def __call__(self, rank: IntArray, technique: IntArray) -> IntArray:
        own = np.searchsorted(self.bounds, technique.astype(np.int64) % self.n,
                              side="right") - 1
        away = self.rng.random(len(rank)) >= LOCAL_SHARE
        sector = own.copy()
        pick = self.rng.integers(0, SUPPLIER_SECTORS, int(away.sum()))
        sector[away] = self.suppliers[own[away], pick]
        start, size = self.bounds[sector], np.diff(self.bounds)[sector]
        return (start + rank.astype(np.int64) % size).astype(np.int32)


class _FlowArrays:
    """Coordinates (technique, item, amount) filled in place, block by block,
    so that no full-size temporary is ever made."""

    def __init__(self, capacity: int) -> None:
        self.technique = np.empty(capacity, dtype=np.int32)
        self.item = np.empty(capacity, dtype=np.int32)
        self.amount = np.empty(capacity, dtype=np.float64)
        self.size = 0

    def add(self, technique: IntArray, item: IntArray, amount: FloatArray) -> None:
        end = self.size + len(amount)
        self.technique[self.size:end] = technique
        self.item[self.size:end] = item
        self.amount[self.size:end] = amount
        self.size = end

    def csr(self, start: int, counts: IntArray, n: int) -> sp.csr_matrix:
        """The rows from ``start`` on, technique-major with ``counts`` per
        technique, as a techniques × products matrix sharing the arrays."""
        indptr = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        index = np.int32 if indptr[-1] < np.iinfo(np.int32).max else np.int64
        end = start + int(indptr[-1])
        return sp.csr_matrix((self.amount[start:end],
                              self.item[start:end].astype(index, copy=False),
                              indptr.astype(index)), shape=(len(counts), n))

    def flows(self) -> Flows:
        return Flows(technique=self.technique[:self.size], item=self.item[:self.size],
                     amount=self.amount[:self.size])


def _add_inputs(rng: np.random.Generator, flows: _FlowArrays, first: int, draws: IntArray,
                rank_to_product: _Relabel | _Sectors, share: tuple[float, float]
                ) -> IntArray:
    """The inputs of techniques first, first + 1, …: distinct suppliers with
    coefficients summing to a share drawn uniformly in ``share``, added block
    by block.  Returns the number of inputs of each technique."""
    n = rank_to_product.n
    counts = np.empty(len(draws), dtype=np.int32)
    for lo in range(0, len(draws), BLOCK):
        block = draws[lo:lo + BLOCK]
        counts[lo:lo + len(block)], rank = _suppliers(rng, n, block)
        c = counts[lo:lo + len(block)]
        weight = rng.standard_exponential(len(rank))
        starts = np.cumsum(c, dtype=np.int64) - c
        weight *= np.repeat(rng.uniform(*share, len(block)) / np.add.reduceat(weight, starts), c)
        technique = np.repeat(np.arange(first + lo, first + lo + len(block), dtype=np.int32), c)
        flows.add(technique, rank_to_product(rank, technique), -weight)
    return counts


def _suppliers(rng: np.random.Generator, n: int, draws: IntArray) -> tuple[IntArray, IntArray]:
    """Distinct supplier ranks per technique, in increasing order.

    Technique j draws ``draws[j]`` ranks.  Sorted uniforms come from
    exponential spacings (the i-th of c sorted uniforms is S_i / S_(c+1) for
    partial sums S of exponentials), so the ranks come out sorted and repeats
    are neighbours: merging them needs no sort."""
    size = draws + 1  # the last one of each technique normalises the spacings
    ends = np.cumsum(size, dtype=np.int64)
    u = rng.standard_exponential(int(ends[-1]))
    np.cumsum(u, out=u)
    last = u[ends - 1]
    before = np.concatenate(([0.0], last[:-1]))
    u -= np.repeat(before, size)
    u /= np.repeat(last - before, size)
    u *= np.log(n + 1.0)
    np.exp(u, out=u)
    np.minimum(u, float(n), out=u)
    rank = u.astype(np.int32)  # floor((n + 1)^U), in 1..n
    rank -= 1
    rank[ends - 1] = -1
    _mend_order(rank, ends - size)
    keep = np.empty(len(rank), dtype=bool)
    keep[0] = True
    np.not_equal(rank[1:], rank[:-1], out=keep[1:])
    keep &= rank >= 0
    counts = np.add.reduceat(keep, ends - size, dtype=np.int32)
    return counts, rank[keep]


def _mend_order(rank: IntArray, starts: NDArray[np.int64]) -> None:
    """Sort the (vanishingly rare) techniques whose ranks a rounding of exp
    left out of order, so that repeats stay neighbours."""
    wrong = np.flatnonzero((rank[1:] < rank[:-1]) & (rank[1:] >= 0)) + 1
    for row in np.unique(np.searchsorted(starts, wrong, side="right") - 1):
        end = starts[row + 1] - 1 if row + 1 < len(starts) else len(rank) - 1
        rank[starts[row]:end] = np.sort(rank[starts[row]:end])


def _draw_rate(n: int, k: float) -> float:
    """λ such that 1 + Poisson(λ) draws from the rank law give ``k`` distinct
    ranks on average: E = Σ_r 1 − (1 − p_r) exp(−λ p_r), solved by Newton's
    method from below (E is increasing and concave in λ)."""
    top = min(n, 1 << 20)
    r = np.arange(top, dtype=np.float64)
    p = np.log1p(1.0 / (r + 1.0)) / np.log(n + 1.0)
    tail = np.log((n + 1.0) / (top + 1.0)) / np.log(n + 1.0)  # P(rank >= top), each tiny
    lam = k - 1.0
    for _ in range(100):
        decay = np.exp(-lam * p)
        expected = np.sum(1.0 - (1.0 - p) * decay) + tail * (1.0 + lam)
        slope = np.sum(p * (1.0 - p) * decay) + tail
        if not slope > 0:  # k is out of reach: as many draws as it took
            break
        step = (k - expected) / slope
        lam = max(lam + step, 0.0)
        if abs(step) < 1e-9 * max(lam, 1.0):
            break
    return lam


def _solve(matvec: Callable[[FloatArray], FloatArray], rhs: FloatArray) -> FloatArray:
    """A Leontief solve to ``NEED_RTOL``: the slack factors dwarf what is left."""
    x, _ = solve_operator(matvec, rhs, SolveOptions(rtol=NEED_RTOL))
    return x


def _final_demand(rng: np.random.Generator, n: int, periods: int) -> FloatArray:
    """Final deliveries f (products × periods): about half of the products,
    log-normal around 100, growing by 0 to 5 % a period; zero elsewhere."""
    wanted = rng.random(n) < 0.5
    wanted[rng.integers(n)] = True
    level = rng.lognormal(np.log(100.0), 1.0, n)
    growth = rng.uniform(0.0, 0.05, n)
    final = np.zeros((n, periods))
    final[wanted] = (level[wanted, None]
                     * (1.0 + growth[wanted, None]) ** np.arange(periods))
    return final


def _targets(final: FloatArray) -> Entries:
    wanted = np.flatnonzero(final[:, 0]).astype(np.int32)
    periods = final.shape[1]
    return Entries(item=np.repeat(wanted, periods),
                   period=np.tile(np.arange(periods, dtype=np.int32), len(wanted)),
                   amount=final[wanted].reshape(-1), weight=np.ones(len(wanted) * periods))


@dataclass(frozen=True)
class _Layout:
    """Positions of items and techniques: products, then labour, then stocks;
    production techniques, then investment techniques."""

    n: int
    has_labour: bool
    has_stocks: bool

    @property
    def labour(self) -> int:
        return self.n

    @property
    def first_stock(self) -> int:
        return self.n + int(self.has_labour)

    @property
    def n_items(self) -> int:
        return self.first_stock + (self.n if self.has_stocks else 0)

    @property
    def n_techniques(self) -> int:
        return self.n * (2 if self.has_stocks else 1)


def _add_stocks(rng: np.random.Generator, layout: _Layout, flows: _FlowArrays,
                draws: IntArray, rank_to_product: _Relabel | _Sectors, gross: FloatArray
                ) -> tuple[IntArray, IntArray, FloatArray]:
    """Capacity ``k<j>`` needed by ``p<j>`` and made by ``invest-<j>``; returns
    the start levels, 5 % above what the first period's targets need."""
    n = layout.n
    products = np.arange(n, dtype=np.int32)
    stock, invest = layout.first_stock + products, n + products
    capital = rng.uniform(0.5, 2.0, n)
    flows.add(products, stock, -capital)
    flows.add(invest, stock, np.ones(n))
    if layout.has_labour:
        flows.add(invest, np.full(n, layout.labour, dtype=np.int32), -rng.uniform(0.1, 1.0, n))
    _add_inputs(rng, flows, n, draws, rank_to_product, (0.5, 1.0))
    return stock, np.zeros(n, dtype=np.int32), 1.05 * capital * gross


def _economy(options: GeneratorOptions, layout: _Layout, flows: Flows,
             availability: list[tuple[IntArray, IntArray, FloatArray]],
             targets: Entries) -> Economy:
    item, period = (np.concatenate([a[c] for a in availability] or [np.zeros(0, np.int32)])
                    for c in range(2))
    amount = np.concatenate([a[2] for a in availability] or [np.zeros(0)])
    return Economy(
        name=f"generated-{options.products}-seed{options.seed}",
        description=(f"Generated by counterplan.generate: {options.products} products, "
                     f"about {options.mean_inputs} inputs each, seed {options.seed}."),
        periods=tuple(str(t + 1) for t in range(options.periods)),
        items=_items(layout),
        techniques=_techniques(layout),
        units=pd.DataFrame({"name": pd.Series([], dtype=object)},
                           index=pd.Index([], name="id", dtype=object)),
        flows=flows,
        availability=Entries(item=item, period=period, amount=amount),
        targets=targets,
        objective=Objective(),
    )


def _items(layout: _Layout) -> pd.DataFrame:
    """Products ``p<j>``, then ``labour``, then stocks ``k<j>``."""
    n = layout.n
    ids, kind, unit, sizes = [_ids("p", n)], ["product"], [""], [n]
    if layout.has_labour:
        ids.append(pa.array(["labour"], pa.large_string()))
        kind.append("resource")
        unit.append("hours")
        sizes.append(1)
    if layout.has_stocks:
        ids.append(_ids("k", n))
        kind.append("stock")
        unit.append("")
        sizes.append(n)
    depreciation = np.zeros(layout.n_items)
    depreciation[layout.first_stock:] = DEPRECIATION
    return pd.DataFrame({
        "kind": _repeated(kind, sizes), "unit": _repeated(unit, sizes),
        "name": _repeated([""], [layout.n_items]), "depreciation": depreciation,
    }, index=pd.Index(_strings(pa.concat_arrays(ids)), name="id"))


def _techniques(layout: _Layout) -> pd.DataFrame:
    """Production ``p<j>``, then investment ``invest-<j>``."""
    ids = [_ids("p", layout.n)]
    if layout.has_stocks:
        ids.append(_ids("invest-", layout.n))
    m = layout.n_techniques
    return pd.DataFrame({
        "name": _repeated([""], [m]), "unit_id": _repeated([""], [m]),
        "min": np.zeros(m), "max": np.full(m, np.inf),
    }, index=pd.Index(_strings(pa.concat_arrays(ids)), name="id"))


def _repeated(values: list[str], sizes: list[int]) -> pd.api.extensions.ExtensionArray:
    """values[0] sizes[0] times, then values[1] sizes[1] times, …, as strings."""
    codes = np.repeat(np.arange(len(values), dtype=np.int8), sizes)
    dictionary = pa.DictionaryArray.from_arrays(codes, pa.array(values, pa.large_string()))
    return _strings(dictionary.cast(pa.large_string()))


def _strings(arrow: pa.Array) -> pd.api.extensions.ExtensionArray:
    """Arrow strings as pandas' default string dtype, without Python objects."""
    return pd.array(arrow, dtype=pd.StringDtype("pyarrow", na_value=np.nan))


def _ids(prefix: str, n: int) -> pa.Array:
    """``prefix`` followed by 0..n-1 zero-padded, built as one Arrow buffer."""
    digits = max(ID_DIGITS, len(str(n - 1)))
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    width = len(head) + digits
    chars = np.empty((n, width), dtype=np.uint8)
    chars[:, :len(head)] = head
    value = np.arange(n, dtype=np.uint32)  # n < 2³¹: positions are int32
    for column in range(width - 1, len(head) - 1, -1):
        quotient = value // 10
        chars[:, column] = value - 10 * quotient + 48
        value = quotient
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets),
                                            pa.py_buffer(chars.reshape(-1)))


__all__ = ["GeneratorOptions", "generate"]

"""Benchmark: detecting changes in fulfilment indices.

Seeded synthetic index series (1 plus noise whose standard deviation σ is
drawn per series in [0.02, 0.1]), ``--length`` reports each, the change at
report ``--change``: steady series, steps of 1, 2 and 3 σ, a slope change of
0.25 σ a report, a single outlier of 5 σ; ``--series`` of each kind (signs
random).  In the same run, on the same series:

- **Harrison–Stevens**: counterplan's multi-state model (``counterplan.cycle``)
  with the monitor's defaults: an alarm when the posterior probability that a
  step, slope change or outlier happened within the model's window of
  reports passes the threshold (0.5); and the same with thresholds of 0.3
  and 0.15;
- **CUSUM**: two-sided tabular CUSUM on the series standardised by the mean
  and standard deviation of the warm-up reports, k = 0.5, h = 5
  (Montgomery's recommended values), reset after an alarm;
- **Page–Hinkley**: ``river.drift.PageHinkley`` (mode both) on the same
  standardised series, delta = 0.5, threshold = 5, min_instances = the
  warm-up (it resets itself after a drift);
- **LLT z-score**: statsmodels' ``UnobservedComponents('local linear trend')``
  fitted by maximum likelihood (Nelder–Mead, 300 iterations) on the warm-up
  reports, then run on the whole series with those parameters; an alarm
  when a standardised one-step forecast error exceeds 3 in absolute value.

Reported per method and kind: the share of series where the change is
detected (an alarm within 10 reports of it; within 2 for an outlier), the
median delay in reports, false alarms per 100 steady reports (alarm onsets
after the warm-up on the steady series), and, for Harrison–Stevens, the
share of detected changes whose kind it names correctly (at the alarm, and
``LATER`` reports after it, 3 and 10, as the monitor restates an exception
whose kind changes).  Alarms before the warm-up's end are not counted for any method.
With ``--bound``, it also prints what detectors that know each series'
mean and σ can reach on the two tests of issue 12 (tests/test_monitor.py):
a scan of the standardised sums of the last 1 to 3 reports, CUSUM and
Shiryaev–Roberts, each with its limit set for 99 % of steady runs of 21
reports without an alarm, and the share of 3σ steps each flags within 3
reports (at the step's report or the two after).
Not a test: run it by hand,

    python benchmarks/bench_monitor.py --series 1000 --bound
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from counterplan.cycle import MonitorOptions
from counterplan.cycle.multistate import CHANGES, run

KINDS = {"steady": ("steady", 0.0), "step 1σ": ("step", 1.0), "step 2σ": ("step", 2.0),
         "step 3σ": ("step", 3.0), "slope 0.25σ": ("slope", 0.25),
         "outlier 5σ": ("outlier", 5.0)}


#: reports after an alarm at which Harrison–Stevens' kind is read again
LATER = (3, 10)


@dataclass(frozen=True)
class Setup:
    series: int
    length: int
    change: int
    warmup: int
    seed: int


def make_series(kind: str, size: float, s: Setup, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    sd = rng.uniform(0.02, 0.1, (s.series, 1))
    y = 1 + sd * rng.standard_normal((s.series, s.length))
    sign = rng.choice([-1.0, 1.0], (s.series, 1))
    after = np.arange(s.length)[None, :] - s.change
    if kind == "step":
        y += sign * size * sd * (after >= 0)
    elif kind == "slope":
        y += sign * size * sd * np.maximum(after + 1, 0)
    elif kind == "outlier":
        y[:, s.change] += sign[:, 0] * size * sd[:, 0]
    return y


# -- the methods: each returns alarms (n × T) and, where it names them, kinds --

def harrison_stevens(y: np.ndarray, s: Setup, threshold: float = MonitorOptions().threshold
                     ) -> tuple[np.ndarray, np.ndarray | None]:
    """An alarm where P(a change within the window) passes the threshold; the
    kind named is the most probable one then and ``LATER`` reports later."""
    f = run(y)
    alarms = f.change.sum(axis=2) > threshold
    named = f.change.argmax(axis=2)
    T = y.shape[1]
    return alarms, np.stack([named] + [named[:, np.minimum(np.arange(T) + n, T - 1)]
                                       for n in LATER])


def _standardised(y: np.ndarray, s: Setup) -> np.ndarray:
    head = y[:, :s.warmup]
    return (y - head.mean(axis=1, keepdims=True)) / head.std(axis=1, ddof=1, keepdims=True)


def cusum(y: np.ndarray, s: Setup, k: float = 0.5, h: float = 5.0
          ) -> tuple[np.ndarray, None]:
    z = _standardised(y, s)
    up = np.zeros(len(y))
    down = np.zeros(len(y))
    alarms = np.zeros(y.shape, dtype=bool)
    for t in range(s.warmup, y.shape[1]):
        up = np.maximum(0, up + z[:, t] - k)
        down = np.maximum(0, down - z[:, t] - k)
        alarms[:, t] = (up > h) | (down > h)
        up[alarms[:, t]] = 0
        down[alarms[:, t]] = 0
    return alarms, None


def page_hinkley(y: np.ndarray, s: Setup) -> tuple[np.ndarray, None]:
    from river.drift import PageHinkley

    z = _standardised(y, s)
    alarms = np.zeros(y.shape, dtype=bool)
    for i in range(len(y)):
        detector = PageHinkley(min_instances=s.warmup, delta=0.5, threshold=5.0, mode="both")
        for t in range(y.shape[1]):
            detector.update(float(z[i, t]))
            alarms[i, t] = detector.drift_detected
    return alarms, None


def llt_zscore(y: np.ndarray, s: Setup, limit: float = 3.0) -> tuple[np.ndarray, None]:
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    alarms = np.zeros(y.shape, dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(len(y)):
            fitted = UnobservedComponents(y[i, :s.warmup], "local linear trend").fit(
                disp=False, method="nm", maxiter=300)
            whole = UnobservedComponents(y[i], "local linear trend").filter(fitted.params)
            z = whole.filter_results.standardized_forecasts_error[0]
            alarms[i] = np.abs(np.nan_to_num(z)) > limit
    return alarms, None


METHODS: dict[str, Callable[[np.ndarray, Setup], tuple[np.ndarray, np.ndarray | None]]] = {
    "Harrison–Stevens": harrison_stevens,
    # the same model with lower thresholds: at about Page–Hinkley's delays, and
    # at CUSUM's
    "Harrison–Stevens 0.3": lambda y, s: harrison_stevens(y, s, 0.3),
    "Harrison–Stevens 0.15": lambda y, s: harrison_stevens(y, s, 0.15),
    "CUSUM": cusum, "Page–Hinkley": page_hinkley, "LLT z-score": llt_zscore,
}


def score(name: str, kind: str, size: float, alarms: np.ndarray, kinds: np.ndarray | None,
          s: Setup) -> dict[str, object]:
    alarms = alarms.copy()
    alarms[:, :s.warmup] = False
    if kind == "steady":
        onsets = alarms[:, s.warmup:] & ~np.roll(alarms, 1, axis=1)[:, s.warmup:]
        return {"false alarms /100": 100 * onsets.sum() / onsets.size,
                "steady runs without alarm": (~alarms.any(axis=1)).mean()}
    window = 2 if kind == "outlier" else 10
    post = alarms[:, s.change:s.change + window]
    detected = post.any(axis=1)
    delay = post.argmax(axis=1)
    row: dict[str, object] = {"detected": detected.mean(),
                              "within 3": (detected & (delay < 3)).mean(),
                              "median delay": float(np.median(delay[detected]))
                              if detected.any() else np.nan}
    if kinds is not None and detected.any():
        at = s.change + delay[detected]
        truth = CHANGES.index(kind)
        rows = np.flatnonzero(detected)
        row["kind right at alarm"] = (kinds[0][rows, at] == truth).mean()
        for n, later in zip(LATER, kinds[1:], strict=True):
            row[f"kind right {n} later"] = (later[rows, at] == truth).mean()
    return row


def oracle_bound(seed: int, runs: int = 100_000) -> dict[str, float]:
    """What detectors that know each series' mean and σ reach on the two tests
    of issue 12, as tests/test_monitor.py runs them: 24 steady reports with
    alarms counted from the 4th, the limit set so that 99 % of such runs
    have none; then the share of 3σ steps (either sign) at report 24 that
    the same limit flags at report 24, 25 or 26.  Three detectors, each
    with its own limit: the scan of the standardised sums of the last 1 to
    3 reports, two-sided CUSUM of a shift d·σ (Page; optimal in Lorden's
    sense for a shift of that size) and Shiryaev–Roberts for the same shift
    (optimal for a uniform prior on the time of the change), d from 1.5
    to 3.  The best of them is the bound the monitor, which must learn the
    mean and σ, is measured against."""
    rng = np.random.default_rng(seed)
    steady = rng.standard_normal((runs, 24))
    stepped = rng.standard_normal((runs, 27))
    stepped[:, 24:] += 3.0 * rng.choice([-1.0, 1.0], (runs, 1))

    def scan(z: np.ndarray) -> np.ndarray:
        total = np.concatenate([np.zeros((len(z), 1)), np.cumsum(z, axis=1)], axis=1)
        out = np.full(z.shape, -np.inf)
        for m in (1, 2, 3):
            out[:, m - 1:] = np.maximum(out[:, m - 1:],
                                        np.abs(total[:, m:] - total[:, :-m]) / np.sqrt(m))
        return out

    def cusum(d: float) -> Callable[[np.ndarray], np.ndarray]:
        def statistic(z: np.ndarray) -> np.ndarray:
            up, down, out = np.zeros(len(z)), np.zeros(len(z)), np.empty_like(z)
            for t in range(z.shape[1]):
                up = np.maximum(0.0, up + d * z[:, t] - d * d / 2)
                down = np.maximum(0.0, down - d * z[:, t] - d * d / 2)
                out[:, t] = np.maximum(up, down)
            return out
        return statistic

    def shiryaev_roberts(d: float) -> Callable[[np.ndarray], np.ndarray]:
        def statistic(z: np.ndarray) -> np.ndarray:
            up, down, out = np.zeros(len(z)), np.zeros(len(z)), np.empty_like(z)
            for t in range(z.shape[1]):
                up = (1.0 + up) * np.exp(d * z[:, t] - d * d / 2)
                down = (1.0 + down) * np.exp(-d * z[:, t] - d * d / 2)
                out[:, t] = np.log(up + down)
            return out
        return statistic

    detectors: dict[str, Callable[[np.ndarray], np.ndarray]] = {"scan of 1-3 reports": scan}
    for d in (1.5, 2.0, 2.25, 2.5, 3.0):
        detectors[f"CUSUM d={d}"] = cusum(d)
        detectors[f"Shiryaev-Roberts d={d}"] = shiryaev_roberts(d)
    flagged = {}
    for name, statistic in detectors.items():
        limit = np.quantile(statistic(steady)[:, 3:].max(axis=1), 0.99)
        flagged[name] = float((statistic(stepped)[:, 24:].max(axis=1) > limit).mean())
    return flagged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--length", type=int, default=40)
    parser.add_argument("--change", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=12)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--bound", action="store_true",
                        help="print the known-mean, known-sigma bound on the two tests")
    args = parser.parse_args()
    if args.bound:
        for name, share in oracle_bound(args.seed).items():
            print(f"{name:>26}: {share:.1%} of 3σ steps flagged within 3 reports")
    s = Setup(args.series, args.length, args.change, args.warmup, args.seed)
    rows = []
    for k, (label, (kind, size)) in enumerate(KINDS.items()):
        y = make_series(kind, size, s, s.seed * 100 + k)
        for name in args.methods.split(","):
            start = time.perf_counter()
            alarms, kinds = METHODS[name](y, s)
            seconds = time.perf_counter() - start
            rows.append({"method": name, "series": label, **score(name, kind, size, alarms,
                                                                     kinds, s),
                         "seconds": round(seconds, 2)})
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(table.to_markdown(index=False, floatfmt=".3g") if _has_tabulate() else "")
    against = matched(table, s)
    if len(against):
        print(against.to_string(index=False, float_format=lambda v: f"{v:.3g}"))


#: thresholds of Harrison–Stevens tried against each baseline
GRID = np.round(np.geomspace(0.01, 0.95, 60), 4)
GOAL = ("step 2σ", "step 3σ")


def matched(table: pd.DataFrame, s: Setup) -> pd.DataFrame:
    """The goal of issue 12, against each baseline in ``table``: the highest
    Harrison–Stevens threshold whose detection and median delay on the steps
    of 2σ and 3σ are at least as good as the baseline's, and its false alarms
    against the baseline's."""
    curves = {}
    for k, (label, (kind, size)) in enumerate(KINDS.items()):
        if label in GOAL or kind == "steady":
            change = run(make_series(kind, size, s, s.seed * 100 + k)).change.sum(axis=2)
            curves[label] = [score("", kind, size, change > t, None, s) for t in GRID]
    out = []
    for name in sorted(set(table["method"]) & {"CUSUM", "Page–Hinkley", "LLT z-score"}):
        base = table[table["method"] == name].set_index("series")
        fit = [i for i in range(len(GRID)) if all(
            curves[g][i]["detected"] >= base.at[g, "detected"]
            and curves[g][i]["median delay"] <= base.at[g, "median delay"]
            for g in GOAL)]
        best = max(fit) if fit else None
        out.append({"baseline": name, "its false alarms /100": base.at["steady",
                                                                         "false alarms /100"],
                    "H–S threshold": GRID[best] if best is not None else np.nan,
                    "H–S false alarms /100": curves["steady"][best]["false alarms /100"]
                    if best is not None else np.nan})
    return pd.DataFrame(out)


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()

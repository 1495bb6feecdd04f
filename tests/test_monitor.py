"""The plan cycle's monitor: reports read and validated, the index formula,
the Harrison–Stevens multi-state filter, and the bundled example."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from counterplan.cycle import (
    MonitorOptions,
    MultiStateOptions,
    check_reports,
    monitor,
    read_reports,
)
from counterplan.cycle.multistate import (
    CHANGES,
    STATES,
    Filtered,
    FilterMemory,
    forecast_even,
    forecast_sum,
    run,
)
from counterplan.cycle.planned import PlanInForce
from counterplan.cycle.reports import _unit_rows, index_table, period_dates, reports_of
from counterplan.errors import CounterplanError, InvalidInput
from counterplan.io.folder import read_folder
from counterplan.plan import solve
from test_cli import run as cli

DATED = 'name = "mini"\nperiods = ["2026", "2027"]\n'
HEADER = "unit_id,technique,period,date,activity\n"
THRESHOLD = MonitorOptions().threshold


def _series(kind: str, n: int, length: int, change: int, size: float, seed: int
            ) -> np.ndarray:
    """n seeded index series around 1 with noise sd drawn in [0.02, 0.1]."""
    rng = np.random.default_rng(seed)
    sd = rng.uniform(0.02, 0.1, (n, 1))
    y = 1 + sd * rng.standard_normal((n, length))
    sign = rng.choice([-1.0, 1.0], (n, 1))
    if kind == "step":
        y[:, change:] += sign * size * sd
    elif kind == "slope":
        y += sign * size * sd * np.maximum(np.arange(length)[None, :] - change + 1, 0)
    elif kind == "outlier":
        y[:, change] += sign[:, 0] * size * sd[:, 0]
    return y


def _alarms(y: np.ndarray) -> np.ndarray:
    """The monitor's rule at each report: the probability that a change
    happened within the window passes the threshold."""
    return run(y).change.sum(axis=2) > THRESHOLD


@pytest.mark.parametrize("window", [1, 2, 12])
def test_posteriors_sum_to_one(window: int) -> None:
    y = _series("step", 200, 30, 15, 3.0, seed=1)
    y[::7, 5] = np.nan  # a missed report changes nothing
    f = run(y, MultiStateOptions(window=window))
    seen = np.isfinite(y)
    assert f.lagged.shape == (200, 30, window, 4)
    assert np.allclose(f.lagged[seen].sum(axis=-1), 1.0)
    assert np.allclose(f.revised[seen].sum(axis=1), 1.0)
    assert (f.lagged[seen] >= 0).all()
    # the probability of a change within the window sums those of its reports
    assert np.allclose(f.change[seen], f.lagged[seen][:, :, 1:].sum(axis=1))
    assert (f.change[seen].sum(axis=1) <= 1 + 1e-12).all()
    assert np.isnan(f.probability[~seen]).all()
    assert np.isnan(f.change[~seen]).all()
    # the view at the report itself is the first lag; a missed report is skipped:
    # one report later than report 4 is report 6
    assert np.array_equal(f.probability, f.lagged[:, :, 0], equal_nan=True)
    if window == 2:
        assert np.allclose(f.revised[::7, 4], f.lagged[::7, 6, 1])
        assert np.allclose(f.revised[1::7, 4], f.lagged[1::7, 5, 1])
    if window == 1:
        assert np.allclose(f.revised[seen], f.probability[seen])


def test_a_missed_report_leaves_the_filter_as_it_was() -> None:
    y = _series("steady", 20, 12, 0, 0.0, seed=6)
    gap = y.copy()
    gap[:, 6] = np.nan
    f, g = run(y[:, :6]), run(gap)
    assert np.allclose(g.level[:, 5], f.level[:, 5])
    assert np.isnan(g.level[:, 6]).all()
    assert np.allclose(g.mean[:, 5], f.mean[:, 5])


def _same(a: Filtered, b: Filtered) -> None:
    for name in a.__dataclass_fields__:
        assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name


def test_the_filter_goes_on_from_where_it_left_each_series() -> None:
    """With a memory, a series seen again with more reports is filtered from
    its last report on, as the web application does at each dated report,
    and the result is the one filtering from the first report gives, to the
    bit: reports added one at a time, the last one corrected, an earlier one
    changed (nothing to go on from), a missed report, series of unequal
    lengths, and a memory too small to keep anything."""
    y = _series("step", 6, 50, 30, 2.0, seed=9)
    y[2, 44:] = np.nan  # a shorter series
    y[3, 10] = np.nan  # a missed report
    memory = FilterMemory()
    for length in range(1, 51):
        seen = y[:, :length].copy()
        if length % 7 == 0:
            seen[1, -1] += 0.3  # the last report of one series corrected
        _same(run(seen, memory=memory), run(seen))
    assert memory.resumed >= 6 * 45 and memory.reports_saved > 6 * 45 * 20
    changed = y.copy()
    changed[0, 20] += 1.0
    _same(run(changed, memory=memory), run(changed))
    tiny = FilterMemory(max_bytes=1)
    for length in (10, 11, 12):
        _same(run(y[:, :length], memory=tiny), run(y[:, :length]))
    assert tiny.resumed == 0


def test_the_forecast_of_the_rest_of_the_period_is_the_models() -> None:
    """The forecast of Σ w y_{t+h} over the next H reports with the rest of the
    period split evenly (the closed forms of forecast_even) against the
    model's covariance of y_{t+1} … y_{t+H} built from its matrices:
    Cov(y_{t+h}, y_{t+h'}) = F Gʰ C (Gʰ')ᵀ Fᵀ + Σ_{k ≤ min(h, h')} F G^{h−k} W
    (G^{h'−k})ᵀ Fᵀ + [h = h'] k_ν V, with G = [[1, 1], [0, 1]], F = [1, 0] and
    W = diag(k_μ, k_β) V of the steady state (here with level and slope moving
    too, so that every term counts); and against forecast_sum."""
    o = MultiStateOptions(steady=(1.0, 0.3, 0.02))
    k_nu, k_mu, k_beta = o.multipliers()[0]
    rng = np.random.default_rng(11)
    n = 41
    mean = rng.normal(1.0, 0.1, (n, 2))
    half = rng.normal(0.0, 0.05, (n, 2, 2))
    cov = half @ half.transpose(0, 2, 1) + 1e-4 * np.eye(2)
    noise = rng.uniform(0.01, 0.2, n)
    total = rng.uniform(0.0, 5.0, n)
    steps = np.arange(n)  # 0 to 40 reports left
    got, sd = forecast_even(mean, cov, noise, total, steps, o)
    G, F = np.array([[1.0, 1.0], [0.0, 1.0]]), np.array([1.0, 0.0])
    for i, H in enumerate(steps):
        w = np.full(H, total[i] / H) if H else np.zeros(0)
        powers = [np.linalg.matrix_power(G, h) for h in range(H + 1)]
        V = noise[i] ** 2
        Wk = np.diag([k_mu * V, k_beta * V])
        Y = np.zeros((H, H))
        for a in range(1, H + 1):
            for b in range(1, H + 1):
                Y[a - 1, b - 1] = F @ powers[a] @ cov[i] @ powers[b].T @ F + sum(
                    F @ powers[a - k] @ Wk @ powers[b - k].T @ F for k in range(1, min(a, b) + 1))
            Y[a - 1, a - 1] += k_nu * V
        expected = sum(w[h - 1] * F @ powers[h] @ mean[i] for h in range(1, H + 1))
        assert got[i] == pytest.approx(expected, rel=1e-12, abs=1e-15)
        assert sd[i] == pytest.approx(np.sqrt(w @ Y @ w), rel=1e-10, abs=1e-15)
        if H:
            s, d = forecast_sum(mean[i:i + 1], cov[i:i + 1], noise[i:i + 1], w[None, :], o)
            assert s[0] == pytest.approx(got[i], rel=1e-12)
            assert d[0] == pytest.approx(sd[i], rel=1e-10)


def test_a_steady_series_stays_below_the_threshold() -> None:
    alarms = _alarms(_series("steady", 1000, 24, 0, 0.0, seed=2))
    alarms[:, :3] = False  # the first reports only place level and slope
    assert (~alarms.any(axis=1)).mean() >= 0.99


@pytest.mark.xfail(strict=True, reason="measured: 63 % of 3-sigma steps flagged within 3 "
                   "reports at the threshold that keeps 99 % of steady runs quiet; CUSUM and "
                   "Shiryaev-Roberts told the mean and sigma reach 94.7 % (docs/cycle.md); "
                   "goal 95 %")
def test_a_three_sigma_step_is_flagged_within_three_reports() -> None:
    alarms = _alarms(_series("step", 1000, 36, 24, 3.0, seed=3))
    assert alarms[:, 24:27].any(axis=1).mean() >= 0.95


def test_a_three_sigma_step_builds_up_evidence_and_is_named_a_step() -> None:
    """The evidence against the steady state accumulates over the reports
    after the step, as in a CUSUM: by the 6th report after it nearly every
    3σ step is flagged; by the 10th it is named a step and dated at the
    step's report."""
    f = run(_series("step", 1000, 36, 24, 3.0, seed=3))
    alarms = f.change.sum(axis=2) > THRESHOLD
    flagged = [alarms[:, 24:end].any(axis=1).mean() for end in (25, 27, 30)]
    assert flagged == sorted(flagged)
    assert flagged[-1] >= 0.95
    named = np.array(CHANGES)[f.change[:, 33].argmax(axis=1)]
    assert (named == "step").mean() >= 0.85
    lag = (1.0 - f.lagged[:, 33, :, 0]).argmax(axis=1)
    assert (33 - lag == 24).mean() >= 0.75


def test_a_slope_change_is_named_a_slope_once_the_later_reports_are_in() -> None:
    """A trend of σ/4 a report from report 24: caught within 12 reports in
    most runs; at the alarm a ramp may still read as a step, ten reports
    later the monitor names it a slope change in at least 80 % of them (the
    issue's goal for the kind)."""
    f = run(_series("slope", 1000, 48, 24, 0.25, seed=7))
    alarms = f.change.sum(axis=2) > THRESHOLD
    window = alarms[:, 24:36]
    detected = np.flatnonzero(window.any(axis=1))
    assert len(detected) >= 850
    at = 24 + window[detected].argmax(axis=1)
    named = np.array(CHANGES)[f.change[detected, np.minimum(at + 10, 47)].argmax(axis=1)]
    assert (named == "slope").mean() >= 0.8


def test_an_outlier_is_called_an_outlier_not_a_step() -> None:
    y = _series("outlier", 500, 30, 20, 5.0, seed=4)
    f = run(y)
    named = np.array(CHANGES)[np.argmax(f.revised[:, 20, 1:], axis=1)]
    assert (named == "outlier").mean() > 0.9
    # and after it the level is where it was: the outlier is not followed
    assert np.median(np.abs(f.level[:, 21] - f.level[:, 19])) < 0.05


def test_period_dates() -> None:
    assert [str(d) for d in period_dates("2026") or ()] == ["2026-01-01", "2026-12-31"]
    assert [str(d) for d in period_dates("2024-Q1") or ()] == ["2024-01-01", "2024-03-31"]
    assert [str(d) for d in period_dates("2024-02") or ()] == ["2024-02-01", "2024-02-29"]
    assert period_dates("1") is None
    assert period_dates("2026-06-30/2026-01-01") is None


def _dated(make_folder) -> Path:
    """The minimal economy with its periods named by year."""
    return make_folder(economy_toml=DATED, availability_csv="item,period,amount\n"
                       "labour,2026,1000\nlabour,2027,1000\noven,2026,5\n",
                       targets_csv="item,period,amount,weight\nbread,2026,100,1\n"
                                   "bread,2027,110,1\n")


def test_the_index_is_actual_over_plan_pro_rata(make_folder) -> None:
    economy = read_folder(_dated(make_folder))
    planned = np.array([[365.0, 0.0], [73.0, 0.0]])  # bakery, farm
    frame = pd.DataFrame({
        "unit_id": ["bakers", "bakers", ""], "technique": ["bakery", "bakery", "farm"],
        "period": ["2026"] * 3, "date": ["2026-01-10", "2026-01-31", "2026-01-10"],
        "activity": ["8", "40", "1"]})
    table = index_table(check_reports(frame, economy), economy, planned)
    bakery = table[table["technique"] == "bakery"]
    # 10 days of 365 planned: 10; 31 days: 31.  Interval: (40 - 8) / (31 - 10)
    assert bakery["index"].tolist() == pytest.approx([0.8, 40 / 31])
    assert bakery["interval_index"].tolist() == pytest.approx([0.8, 32 / 21])
    unit = table[(table["unit_id"] == "bakers") & (table["technique"] == "")]
    assert unit["index"].tolist() == pytest.approx([0.8, 40 / 31])
    farm = table[table["technique"] == "farm"]
    assert farm["index"].tolist() == pytest.approx([1 / 2.0])


def test_checked_reports_read_back_are_the_checked_table(example) -> None:
    """reports_of (the web's reports read back from its database, each
    checked when it was made) gives the table check_reports gives for the
    same reports, whatever their order."""
    folder = example("brazil-five-year")
    economy = read_folder(folder)
    raw = pd.read_csv(folder / "reports.csv", dtype=str, keep_default_na=False)
    raw = raw.sample(frac=1.0, random_state=2).reset_index(drop=True)
    checked = check_reports(raw, economy, "r").frame
    typed = raw.assign(date=[dt.date.fromisoformat(d) for d in raw["date"]],
                       activity=raw["activity"].astype(float))
    got = reports_of(typed, economy, "r").frame
    pd.testing.assert_frame_equal(got.drop(columns="line"), checked.drop(columns="line"))
    with pytest.raises(CounterplanError, match="the plan does not have"):
        reports_of(typed.assign(technique="gold_mining"), economy)


def test_a_units_sums_are_its_techniques_latest_reports() -> None:
    """The unit rows of the index table against the definition, computed
    directly: at each date a unit reported in a period, the sum over its
    techniques of each one's latest report in the period up to that date
    (the last one given when a date has two)."""
    rng = np.random.default_rng(11)
    for _ in range(50):
        n = int(rng.integers(1, 40))
        cells = pd.DataFrame({
            "unit_id": rng.choice(["a", "b", "c"], n),
            "technique": rng.choice(["t1", "t2", "t3"], n),
            "period": rng.choice(["2026", "2027"], n),
            "date": (np.datetime64("2026-01-01") + rng.integers(0, 12, n)).astype("datetime64[D]"),
            "actual": rng.uniform(0, 1e6, n), "planned": rng.uniform(0, 10, n),
            "planned_period": rng.uniform(0, 1e3, n)})
        got = _unit_rows(cells)
        assert len(got) == len(cells[["unit_id", "period", "date"]].drop_duplicates())
        for row in got.itertuples():
            mine = cells[(cells["unit_id"] == row.unit_id) & (cells["period"] == row.period)
                         & (cells["date"] <= row.date)]
            latest = mine.sort_values("date", kind="stable").groupby("technique").last()
            assert row.technique == ""
            for column in ("actual", "planned", "planned_period"):
                assert getattr(row, column) == pytest.approx(latest[column].sum(), rel=1e-12)


@pytest.mark.parametrize("row, message", [
    ("bakers,oven-maker,2026,2026-03-01,5", "unknown technique"),
    ("bakers,bakery,2026,2027-03-01,5", "date is outside its period"),
    ("bakers,bakery,2026,2026-03-01,-5", "activity is negative"),
    (",bakery,2026,2026-03-01,5", "a unit reports for a technique it does not run"),
    ("bakers,farm,2026,2026-03-01,5", "a unit reports for a technique it does not run"),
    ("bakers,bakery,2031,2026-03-01,5", "unknown period"),
    ("bakers,bakery,2026,1 March,5", "date is not an ISO date"),
    ("bakers,bakery,2026,2026-03-01,lots", "activity is not a number"),
])
def test_bad_reports_get_a_named_error(make_folder, tmp_path: Path, row: str,
                                       message: str) -> None:
    folder = _dated(make_folder)
    reports = tmp_path / "reports.csv"
    reports.write_text(HEADER + "bakers,bakery,2026,2026-01-31,1\n" + row + "\n")
    with pytest.raises(InvalidInput) as error:
        read_reports(reports, read_folder(folder))
    (problem,) = error.value.problems
    assert problem.message == message
    assert (problem.file, problem.line) == ("reports.csv", 3)


def test_reports_need_dated_periods(make_folder, tmp_path: Path) -> None:
    folder = make_folder()  # periods "1", "2"
    reports = tmp_path / "reports.csv"
    reports.write_text(HEADER + "bakers,bakery,1,2026-01-31,1\n")
    with pytest.raises(InvalidInput, match="name no dates"):
        read_reports(reports, read_folder(folder))


def test_falling_cumulative_activity_is_refused(make_folder, tmp_path: Path) -> None:
    folder = _dated(make_folder)
    reports = tmp_path / "reports.csv"
    reports.write_text(HEADER + "bakers,bakery,2026,2026-02-28,5\n"
                                "bakers,bakery,2026,2026-01-31,9\n")
    with pytest.raises(InvalidInput, match="lower than at the technique's previous report"):
        read_reports(reports, read_folder(folder))


def _example(example) -> tuple[Path, PlanInForce]:
    folder = example("brazil-five-year")
    return folder, PlanInForce.of(solve(read_folder(folder)))


def test_the_example_flags_the_two_units_that_changed(example) -> None:
    folder, plan = _example(example)
    watch = monitor(plan, read_reports(folder / "reports.csv", plan.economy))
    flagged_units = set(watch.exceptions["unit_id"])
    assert flagged_units == {"mining", "manufacturing-light"}
    units = watch.exceptions[watch.exceptions["technique"] == ""]
    mining = units[units["unit_id"] == "mining"]
    assert mining["date"].min() <= "2026-06-30"  # a month after the step
    # the step is named a step, and dated at the month it happened
    (step,) = mining[mining["kind"] == "step"].itertuples()
    assert "most probably at the report of 2026-05-31" in step.reason
    drifting = units[units["unit_id"] == "manufacturing-light"]
    assert set(drifting["kind"]) == {"shortfall", "slope"}
    index = watch.indices
    for state in STATES:
        assert index[f"p_{state}"].between(0, 1).all()
    assert index["p_change"].between(0, 1).all()
    assert np.allclose(index["p_change"], index[[f"p_{c}_window" for c in CHANGES]].sum(axis=1))
    december = index[index["date"] == "2026-12-31"]
    # at the period's end the forecast is the fulfilment itself
    assert np.allclose(december["forecast"], december["index"])


def test_monitor_command_writes_its_tables_and_plots(example, tmp_path: Path) -> None:
    folder = example("brazil-five-year")
    assert cli("solve", folder, "--out", tmp_path / "plan", "-q").returncode == 0
    done = cli("monitor", tmp_path / "plan", folder / "reports.csv", "--economy", folder,
               "--out", tmp_path / "watch")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "watch" / "indices.csv").is_file()
    assert (tmp_path / "watch" / "plots" / "mining--unit.png").is_file()
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "agro,iron_ore_mining,2026,2026-01-31,5\n")
    done = cli("monitor", tmp_path / "plan", bad, "--economy", folder, "--out",
               tmp_path / "nothing")
    assert done.returncode == 1
    assert "bad.csv:2: error: a unit reports for a technique it does not run" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "nothing").exists()

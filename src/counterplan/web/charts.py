"""The pages' charts as Vega-Lite specifications: pure functions from the
services' plain data (lists of dicts) to a spec dict.

The page embeds each spec as a JSON data block; static/app.js draws it with
vega-embed.  Every chart is as wide as its container (``width: "container"``),
so it reads on a phone; rows with a missing or infinite number are left out
(absence is shown as absence, never as zero).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Any

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
#: The colours of the reconciliation's outcomes, in the words the pages use.
OUTCOME_COLOURS = {"adopted": "#2e7d32", "scaled back": "#f9a825", "refused": "#c62828"}

#: Type large enough to read on a phone.
CONFIG = {"font": "system-ui, sans-serif",
          "axis": {"labelFontSize": 12, "titleFontSize": 12},
          "legend": {"labelFontSize": 12, "titleFontSize": 12}}

Rows = list[dict[str, Any]]
Spec = dict[str, Any]

#: 40 distinct colours (Tableau 20, then the paler and darker halves of
#: d3's category20b/c), so that a unit with many techniques repeats none.
PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
           "#ff9da7", "#9c755f", "#bab0ac", "#a0cbe8", "#ffbe7d", "#ff9d9a", "#86bcb6",
           "#8cd17d", "#f1ce63", "#d4a6c8", "#fabfd2", "#d7b5a6", "#79706e",
           "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d",
           "#31a354", "#756bb1", "#636363", "#5254a3", "#8ca252", "#bd9e39", "#ad494a",
           "#a55194", "#6baed6", "#fd8d3c", "#74c476", "#9e9ac8", "#969696"]


def finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and \
        math.isfinite(value)


def kept(rows: Rows, *numbers: str) -> Rows:
    """The rows whose ``numbers`` fields are all finite."""
    return [r for r in rows if all(finite(r.get(n)) for n in numbers)]


def spec(title: str, values: Rows, height: int = 220, **body: Any) -> Spec:
    """A chart filling its container's width (Vega-Lite then fits it to
    the width: autosize fit-x), with ``values`` inline.  The title is the
    spec's ``description``: the page prints it above the chart, where it
    wraps on a narrow screen (a title drawn in the chart would be cut)."""
    return {"$schema": SCHEMA, "description": title, "width": "container", "height": height,
            "data": {"values": values}, "config": CONFIG, **body}


def bands(values: Rows, field: str, step: int = 22) -> int:
    """The height of a chart with one band of ``step`` pixels per distinct
    ``field`` (a fixed number: a step height would stop it fitting the width)."""
    return max(60, step * len({str(r[field]) for r in values}))


def _period(sort: list[str] | None = None) -> dict[str, Any]:
    return {"field": "period", "type": "ordinal", "title": "period",
            "axis": {"labelAngle": 0}, **({"sort": sort} if sort else {})}


def _legend_below(field: str, title: str, **extra: Any) -> dict[str, Any]:
    """A colour legend under the chart that wraps into as many columns as
    the width holds and shows every entry (no symbol limit), in colours
    that do not repeat up to 40 entries."""
    return {"field": field, "type": "nominal", "title": title,
            "scale": {"range": PALETTE},
            "legend": {"orient": "bottom", "labelLimit": 240, "symbolLimit": 0,
                       "columns": {"signal": "max(1, floor(width / 200))"}}, **extra}


def _worth(rows: Rows, money: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """The field and y axis of a valuation chart: the worth in the
    numeraire (for example jobs of labour) when there is one."""
    if money is not None and any(finite(r.get("worth")) for r in rows):
        return "worth", {"title": f"worth, in {money['item']} ({money['unit']}) per unit",
                         "axis": {"format": "~s"}}
    return "valuation", {"title": "valuation per unit", "axis": {"format": "~g"}}


def _periods(rows: Rows) -> list[str]:
    return list(dict.fromkeys(str(r["period"]) for r in rows))


def _ratio_axis(title: str) -> dict[str, Any]:
    return {"type": "quantitative", "title": title, "axis": {"format": "%"}}


# -- versions -------------------------------------------------------------------------

def fulfilment_per_period(rows: Rows) -> Spec:
    """Bars of the mean fulfilment of the targets in each period, with a
    rule at 100 %.  ``rows``: period, ratio (as versions.detail gives)."""
    values = kept(rows, "ratio")
    return spec("Targets met, per period (100 % = the target)", values, layer=[
        {"mark": {"type": "bar", "tooltip": True},
         "encoding": {"x": _period(_periods(values)), "y": {"field": "ratio", **_ratio_axis(
             "delivered / target")}}},
        {"mark": {"type": "rule", "color": "#444", "strokeDash": [4, 3]},
         "encoding": {"y": {"datum": 1}}}])


def fulfilment_compare(first: dict[str, Any], second: dict[str, Any]) -> Spec:
    """Fulfilment per period of two versions (versions.detail dicts), side by side."""
    values = [{"version": f"version {d['number']}", "period": r["period"], "ratio": r["ratio"]}
              for d in (first, second) for r in kept(d["fulfilment"], "ratio")]
    return spec("Targets met, per period, in both versions", values, layer=[
        {"mark": {"type": "bar", "tooltip": True},
         "encoding": {"x": _period(_periods(values)),
                      "xOffset": {"field": "version", "type": "nominal"},
                      "y": {"field": "ratio", **_ratio_axis("delivered / target")},
                      "color": _legend_below("version", "version")}},
        {"mark": {"type": "rule", "color": "#444", "strokeDash": [4, 3]},
         "encoding": {"y": {"datum": 1}}}])


def top_valuations(valuations: Rows, n: int = 15, money: dict[str, Any] | None = None
                   ) -> Spec:
    """The valuation per period of the ``n`` products valued highest (by
    their highest valuation in any period), as worth in ``money`` (the
    numeraire) when given.  ``valuations``: item, period, valuation, worth."""
    field, axis = _worth(valuations, money)
    values = kept(valuations, "valuation", field)
    best: dict[str, float] = {}
    for r in values:
        best[r["item"]] = max(best.get(r["item"], -math.inf), r["valuation"])
    top = sorted(best, key=lambda item: -best[item])[:n]
    chosen = [r for r in values if r["item"] in set(top)]
    return spec(f"Valuations of the {len(top)} products valued highest", chosen, height=260,
                mark={"type": "line", "point": True, "tooltip": True},
                encoding={"x": _period(_periods(chosen)),
                          "y": {"field": field, "type": "quantitative", **axis},
                          "color": _legend_below("item", "product", sort=top)})


def activity_changes(changes: Rows, n: int = 20) -> Spec:
    """The ``n`` largest changes of a technique's activity in a period
    between two versions.  ``changes``: technique, period, level_a, level_b, change."""
    values = [{**r, "cell": f"{r['technique']} · {r['period']}"}
              for r in kept(changes, "change")][:n]
    return spec("Largest changes of activity (second version minus first)", values,
                height=bands(values, "cell", 18),
                mark={"type": "bar", "tooltip": True},
                encoding={"y": {"field": "cell", "type": "nominal", "title": None,
                                "sort": "-x"},
                          "x": {"field": "change", "type": "quantitative",
                                "title": "change of activity", "axis": {"format": "~s"}},
                          "color": {"condition": {"test": "datum.change < 0",
                                                  "value": "#c62828"},
                                    "value": "#2e7d32"}})


# -- a unit ---------------------------------------------------------------------------

def planned_activity(activity: Rows, techniques: Rows) -> Spec:
    """The unit's planned activity of each technique in each period.
    ``activity``: technique, period, level; ``techniques``: id, name."""
    names = {t["id"]: t["name"] for t in techniques}
    values = [{**r, "name": names.get(r["technique"], r["technique"])}
              for r in kept(activity, "level")]
    return spec("Planned activity of each technique, per period", values,
                mark={"type": "bar", "tooltip": True},
                encoding={"x": _period(_periods(values)),
                          "xOffset": {"field": "technique", "type": "nominal"},
                          "y": {"field": "level", "type": "quantitative",
                                "title": "activity", "axis": {"format": "~s"}},
                          "color": _legend_below("technique", "technique"),
                          "tooltip": [{"field": "technique"}, {"field": "name"},
                                      {"field": "period"},
                                      {"field": "level", "format": ",.0f"}]})


def balance_shares(balance: Rows, n: int = 20) -> Spec:
    """The unit's share of the supply and of the use of each product, the
    mean over the periods, for the ``n`` products where its share is largest.
    ``balance``: item, share_of_supply, share_of_use (per period)."""
    sums: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in balance:
        for field, side in (("share_of_supply", "of what is made"),
                            ("share_of_use", "of what is used")):
            if finite(r.get(field)):
                sums[(r["item"], side)].append(float(r[field]))
    means = {key: sum(v) / len(v) for key, v in sums.items()}
    largest: dict[str, float] = {}
    for (item, _), share in means.items():
        largest[item] = max(largest.get(item, 0.0), share)
    top = [i for i in sorted(largest, key=lambda i: -largest[i]) if largest[i] > 0][:n]
    values = [{"item": item, "side": side, "share": means[(item, side)]}
              for item in top for side in ("of what is made", "of what is used")
              if means.get((item, side), 0.0) > 0]
    return spec("The unit's share of each product's balance (mean over the periods)",
                values, height=bands(values, "item", 26),
                mark={"type": "bar", "tooltip": True},
                encoding={"y": {"field": "item", "type": "nominal", "title": None,
                                "sort": top},
                          "yOffset": {"field": "side", "type": "nominal"},
                          "x": {"field": "share", **_ratio_axis("share")},
                          "color": _legend_below("side", "the unit's share")})


def unit_valuations(balance: Rows, n: int = 10, money: dict[str, Any] | None = None) -> Spec:
    """The valuation per period of the (at most ``n``) products the unit
    makes most of, as worth in ``money`` when given.  ``balance``: item,
    period, unit_supply, valuation, worth."""
    field, axis = _worth(balance, money)
    made = kept([r for r in balance if finite(r.get("unit_supply")) and r["unit_supply"] > 0],
                "valuation", field)
    total: dict[str, float] = defaultdict(float)
    for r in made:
        total[r["item"]] += r["unit_supply"]
    top = sorted(total, key=lambda i: -total[i])[:n]
    values = [{"item": r["item"], "period": r["period"], field: r[field]}
              for r in made if r["item"] in set(top)]
    return spec("Valuations of what the unit makes", values,
                mark={"type": "line", "point": True, "tooltip": True},
                encoding={"x": _period(_periods(values)),
                          "y": {"field": field, "type": "quantitative", **axis},
                          "color": _legend_below("item", "product", sort=top)})


# -- rounds and fulfilment ------------------------------------------------------------

def outcomes_by_unit(outcomes: Rows) -> Spec:
    """How many of each unit's submitted counter-plans were adopted, scaled
    back or refused.  ``outcomes``: unit, outcome (rounds.outcomes)."""
    counts = Counter((str(o["unit"]), str(o["outcome"])) for o in outcomes)
    values = [{"unit": unit, "outcome": outcome, "count": k}
              for (unit, outcome), k in sorted(counts.items())]
    most = max(Counter(str(o["unit"]) for o in outcomes).values(), default=0)
    return spec("Counter-plans of each unit, by outcome", values,
                height=bands(values, "unit"),
                mark={"type": "bar", "tooltip": True},
                encoding={"y": {"field": "unit", "type": "nominal", "title": None},
                          "x": {"field": "count", "type": "quantitative",
                                "title": "counter-plans",
                                "axis": {"values": list(range(most + 1)), "format": "d"}},
                          "color": {"field": "outcome", "type": "nominal", "title": "outcome",
                                    "scale": {"domain": list(OUTCOME_COLOURS),
                                              "range": list(OUTCOME_COLOURS.values())},
                                    "legend": {"orient": "bottom"}}})


def outcome_shares(outcomes: Rows) -> Spec:
    """For each counter-plan, the share of it the plan could take when it
    was judged alone, and the share adopted with all the others.
    ``outcomes``: id, unit, share, outcome_share."""
    values = [{"proposal": f"#{o['id']} {o['unit']}", "stage": stage, "share": o[field]}
              for o in outcomes
              for field, stage in (("share", "judged alone"), ("outcome_share", "adopted"))
              if finite(o.get(field))]
    return spec("Share of each counter-plan: judged alone and adopted", values,
                height=bands(values, "proposal", 26),
                mark={"type": "bar", "tooltip": True},
                encoding={"y": {"field": "proposal", "type": "nominal", "title": None,
                                "sort": None},
                          "yOffset": {"field": "stage", "type": "nominal",
                                      "sort": ["judged alone", "adopted"]},
                          "x": {"field": "share", **_ratio_axis("share"),
                                "scale": {"domain": [0, 1]}},
                          "color": _legend_below("stage", "",
                                                 sort=["judged alone", "adopted"])})


def fulfilment_cells(cells: Rows) -> Spec:
    """Actual over planned activity of each reported technique and period,
    with a rule at 100 %.  ``cells``: unit, technique, period, ratio."""
    values = [{**c, "cell": f"{c['unit']} · {c['technique']}"} for c in kept(cells, "ratio")]
    return spec("Plan fulfilment of each reported technique", values,
                height=bands(values, "cell"),
                layer=[
                    {"mark": {"type": "point", "filled": True, "size": 80, "tooltip": True},
                     "encoding": {"y": {"field": "cell", "type": "nominal", "title": None},
                                  "x": {"field": "ratio", **_ratio_axis("actual / planned")},
                                  "color": _legend_below("period", "period")}},
                    {"mark": {"type": "rule", "color": "#444", "strokeDash": [4, 3]},
                     "encoding": {"x": {"datum": 1}}}])


def ranking(rows: Rows, field: str, title: str) -> Spec:
    """Units ranked by ``field`` (fulfilment or norm_improvement), best on
    top; units without a number are left out."""
    values = kept(rows, field)
    return spec(title, values, height=bands(values, "unit"),
                mark={"type": "bar", "tooltip": True},
                encoding={"y": {"field": "unit", "type": "nominal", "title": None,
                                "sort": "-x"},
                          "x": {"field": field, **_ratio_axis(title.lower())},
                          "tooltip": [{"field": "unit"}, {"field": "name"},
                                      {"field": field, "format": ".1%"}]})

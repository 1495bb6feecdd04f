"""The plan cycle: reports within a period, fulfilment watched as it
happens (the Harrison–Stevens multi-state model behind Cybersyn's
Cyberstride), exceptions, and the rest of the plan recomputed from what
actually happened (docs/cycle.md).

    from counterplan.cycle import monitor, read_reports, replan
    reports = read_reports("b5/reports.csv", plan.economy)
    watch = monitor(plan, reports)            # watch.indices, watch.exceptions
    again = replan(plan, reports, "2027")     # again.plan, again.changes
"""

from __future__ import annotations

from counterplan.cycle.monitor import Monitoring, MonitorOptions, monitor
from counterplan.cycle.multistate import MultiStateOptions
from counterplan.cycle.planned import PlanInForce
from counterplan.cycle.replan import Replan, ReplanOptions, replan
from counterplan.cycle.reports import Reports, check_reports, read_reports

__all__ = [
    "MonitorOptions", "Monitoring", "MultiStateOptions", "PlanInForce", "Replan",
    "ReplanOptions", "Reports", "check_reports", "monitor", "read_reports", "replan",
]

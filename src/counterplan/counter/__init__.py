"""Counter-plans: proposals from the workplaces, each checked against the
balances of the whole economy (evaluate), all reconciled together by the
optimiser (reconcile), and the office–unit rounds of two-level planning."""

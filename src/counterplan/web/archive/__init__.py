"""The web application's whole state as a folder of plain files, and back.

``export`` writes every account, plan, version (as real plan folders), round,
proposal (as counter-plan CSVs), outcome, vote (as totals, never a ballot) and
report; ``restore`` checks such a folder whole, then writes it into a new,
empty database in one transaction.  Two exports of one state are
byte-identical: nothing depends on when they were written or on row ids,
except the ids of proposals and votes, which the app shows and which are kept.
Sessions and failed logins are not kept.  Layout: below and docs/web-archive.md.
"""

from counterplan.web.archive.exporter import export
from counterplan.web.archive.formats import FORMAT, FORMAT_VERSION, MANIFEST, TABLES, summary
from counterplan.web.archive.restorer import read_archive, restore

__all__ = ["FORMAT", "FORMAT_VERSION", "MANIFEST", "TABLES", "export", "read_archive",
           "restore", "summary"]

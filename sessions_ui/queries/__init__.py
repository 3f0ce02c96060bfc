"""Which rows: the queries behind the pages, each written once, none taking a request.

`pages` is the list (its order, a page of rows, the count), `totals` the counts over many sessions
(filter choices, a user's totals), `runs` a session's stored runs (counts, previews, export),
`list_runs` what the list shows of them without reading a blob, `records` Agno's other records about
sessions (compactions, offloaded tool results, transcripts), `timeline` the detail page's runs, and
`sql_json` the SQL twins of `sessions_ui.agno`'s decoding.
Callers use the names below, from `sessions_ui.queries`; the limits (page size, count cap...) are
read where they are defined, `queries.pages.LIST_PAGE_SIZE`, so that one setting is one value.
"""

from sessions_ui.queries.list_runs import count_inline_runs
from sessions_ui.queries.pages import (
    ListPage,
    ListRow,
    Unindexed,
    counted_page,
    list_page,
    list_total,
    order_by_sort,
    searched_texts,
)
from sessions_ui.queries.positions import Position
from sessions_ui.queries.records import compaction, record_counts, records_by_session, session_compactions
from sessions_ui.queries.runs import (
    RunStats,
    inline_runs,
    page_runs,
    preview_runs,
    run_rows,
    run_total,
    session_export,
)
from sessions_ui.queries.sql_json import JSONNumber, JSONText
from sessions_ui.queries.timeline import StoredRun, run_timeline
from sessions_ui.queries.totals import UserTotals, cached_filter_choices, filter_choices, user_totals

__all__ = [
    "JSONNumber", "JSONText", "ListPage", "ListRow", "Position", "RunStats", "StoredRun", "Unindexed",
    "UserTotals", "cached_filter_choices", "compaction", "count_inline_runs", "counted_page", "filter_choices",
    "inline_runs", "list_page", "list_total", "order_by_sort", "page_runs", "preview_runs", "record_counts",
    "records_by_session", "run_rows", "run_timeline", "run_total", "searched_texts", "session_compactions",
    "session_export", "user_totals",
]  # fmt: skip

"""Which rows: the queries behind the pages, each written once, none taking a request.

`pages` is the list (its order, a page of rows, the count), `totals` the counts over many sessions
(filter choices, a user's totals), `runs` a session's stored runs (counts, previews, export),
`list_runs` what the list shows of them without reading a blob, `records` Agno's other records about
sessions (compactions, offloaded tool results, transcripts), `timeline` the detail page's runs, `traces`
the spans Agno's tracing recorded for a run, and
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
    sort_window,
)
from sessions_ui.queries.positions import Position
from sessions_ui.queries.records import (
    compaction,
    record_counts,
    records_by_session,
    session_compactions,
    session_transcripts,
    tool_result,
    transcript_entries,
)
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
from sessions_ui.queries.totals import (
    Choice,
    Resolved,
    UserTotals,
    cached_filter_choices,
    filter_choices,
    resolve_choice,
    user_totals,
)
from sessions_ui.queries.traces import (
    RunTrace,
    SpanDetail,
    TraceCount,
    run_trace,
    span_detail,
    trace_counts,
    traced_runs,
    traced_time,
    traced_time_sql,
    traces_cursor,
)

__all__ = [
    "Choice", "JSONNumber", "JSONText", "ListPage", "ListRow", "Position", "RunStats", "RunTrace", "SpanDetail", "StoredRun", "Unindexed",
    "UserTotals", "cached_filter_choices", "compaction", "count_inline_runs", "counted_page", "filter_choices",
    "inline_runs", "list_page", "list_total", "order_by_sort", "page_runs", "preview_runs", "record_counts",
    "records_by_session", "Resolved", "resolve_choice", "run_rows", "run_timeline", "run_total", "run_trace", "searched_texts",
    "session_compactions", "session_export", "sort_window", "session_transcripts", "span_detail", "tool_result", "traced_runs",
    "TraceCount", "trace_counts", "traced_time", "traces_cursor", "traced_time_sql", "transcript_entries", "user_totals",
]  # fmt: skip

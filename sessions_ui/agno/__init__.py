"""What the stored JSON means: the one place that decodes Agno's columns into small typed objects.

`values` reads one stored JSON value (plain, double-encoded, null or garbage) and never raises,
`metrics` the token counts and durations, `runs` the runs of either layout, merged and nested, and
`sessions` a session row and its export, `records` Agno 3.1's records around a session (compactions). Templates never touch raw JSON; the SQL that reads the same
values in the database (`sessions_ui.queries.sql_json`) names its Python twin here.
"""

from sessions_ui.agno.metrics import TOKEN_KEYS, Metrics, decode_metrics
from sessions_ui.agno.records import COMPACTION_COLUMNS, Compaction, decode_compaction
from sessions_ui.agno.runs import (
    MAX_MEMBER_DEPTH,
    MEDIA_KEYS,
    Message,
    Run,
    Step,
    ToolCall,
    decode_message,
    decode_message_tool_call,
    decode_run,
    decode_runs,
    decode_step,
    decode_tool_execution,
    media_references,
    nest_runs,
    run_path,
    stored_runs,
)
from sessions_ui.agno.sessions import (
    JSON_COLUMNS,
    SESSION_COLUMNS,
    Component,
    Session,
    Summary,
    decode_component,
    decode_session,
    decode_summary,
    export_session,
    session_name,
)
from sessions_ui.agno.values import (
    MAX_DEPTH,
    SESSION_TYPES,
    Malformed,
    as_dict,
    as_float,
    as_int,
    as_list,
    as_text,
    decode_dict,
    decode_json,
    epoch_to_datetime,
    nests_deeper_than,
    pretty_json,
    text_of,
)

__all__ = [
    "COMPACTION_COLUMNS", "JSON_COLUMNS", "MAX_DEPTH", "MAX_MEMBER_DEPTH", "MEDIA_KEYS", "SESSION_COLUMNS", "SESSION_TYPES", "TOKEN_KEYS",
    "Compaction", "Component", "Malformed", "Message", "Metrics", "Run", "Session", "Step", "Summary", "ToolCall",
    "as_dict", "as_float", "as_int", "as_list", "as_text", "decode_compaction", "decode_component", "decode_dict", "decode_json",
    "decode_message", "decode_message_tool_call", "decode_metrics", "decode_run", "decode_runs", "decode_session",
    "decode_step", "decode_summary", "decode_tool_execution", "epoch_to_datetime", "export_session",
    "media_references", "nest_runs", "nests_deeper_than", "pretty_json", "run_path", "session_name", "stored_runs",
    "text_of",
]  # fmt: skip

"""The SQL twins of `sessions_ui.agno`'s decoding rules: the same stored JSON read by the database.

A list page must not load the runs blob nor decode every row's JSON in Python, so some rules of
`agno` are also written in SQL, for SQLite and PostgreSQL. Each function here names its Python twin;
a change to one is a change to both. What cannot be read is NULL (or not counted), never an SQL error.
"""

from __future__ import annotations

from django.db.models import BooleanField, Case, F, Func, IntegerField, Q, TextField, When

from sessions_ui.schema import has_runs_table
from sessions_ui.sources import current_source


def sqlite_json_document(column: str) -> str:
    """SQL for a stored value as plain JSON text (Agno 2.x's double encoding unwrapped), NULL if unreadable.

    Twin of `agno.decode_json`. SQLite's JSON functions raise on malformed text, which would fail the
    whole page: validate first.
    """
    return (
        f"CASE WHEN json_valid({column}) THEN CASE WHEN json_type({column}) = 'text'"
        f" THEN CASE WHEN json_valid(json_extract({column}, '$')) THEN json_extract({column}, '$') END"
        f" ELSE {column} END END"
    )


def json_value_sql(vendor: str, column: str, path: tuple[str, ...], *, number: bool = False) -> str:
    """SQL reading a key path of a stored JSON column: text (or a number), NULL when absent or unreadable.

    Twin of `agno.as_text` (or `agno.as_int`) over `agno.decode_json(column)[path...]`.
    """
    if vendor == "postgresql":
        parents = "".join(f" -> '{key}'" for key in path[:-1])
        if number:
            value = f"{column}::jsonb{parents} -> '{path[-1]}'"
            return f"(CASE WHEN jsonb_typeof({value}) = 'number' THEN ({column}::jsonb{parents} ->> '{path[-1]}')::numeric END)"
        return f"({column}::jsonb{parents} ->> '{path[-1]}')"
    # A key with a dot in it (OpenInference's "agno.run.id") is one key: quoted in the path.
    keys = (f'"{key}"' if "." in key else key for key in path)
    document, json_path = sqlite_json_document(column), "$." + ".".join(keys)
    if number:
        # As a bounded REAL: SQLite's SUM raises on integer overflow, and reads 1e999 as infinity.
        return (
            f"(CASE WHEN json_type({document}, '{json_path}') IN ('integer', 'real')"
            f" AND abs(json_extract({document}, '{json_path}')) < 1e18"
            f" THEN CAST(json_extract({document}, '{json_path}') AS REAL) END)"
        )
    return f"json_extract({document}, '{json_path}')"


class JSONText(Func):
    """A key path of a stored JSON column as text; NULL, never an SQL error, on any stored shape (see json_value_sql)."""

    output_field = TextField()
    number = False

    def __init__(self, column: str, *path: str):
        if not all(key.isidentifier() for key in path):
            raise ValueError(f"JSON keys are written into the SQL: {path!r} must be plain identifiers")
        super().__init__(F(column))
        self.path = path

    def as_sql(self, compiler, connection, **extra_context):
        column, params = compiler.compile(self.get_source_expressions()[0])
        if params:
            raise ValueError("JSONText reads a column, not an expression with parameters")
        return json_value_sql(connection.vendor, column, self.path, number=self.number), []


class JSONNumber(JSONText):
    """A key path of a stored JSON column when it holds a number, else NULL."""

    output_field = IntegerField()
    number = True


def component_name() -> Case:
    """The name of the agent, team or workflow that owns the session, read from its *_data column.

    Twin of `agno.decode_component(...).name`.
    """
    return Case(
        When(session_type="team", then=JSONText("team_data", "name")),
        When(session_type="workflow", then=JSONText("workflow_data", "name")),
        default=JSONText("agent_data", "name"),
    )


def component_model() -> dict[str, Case]:
    """The model of the component that owns the session: its config's `model.id`, or `model` itself
    when that is a string (older configs). Twin of `agno.decode_component(...).model_id`."""

    def of(*path: str) -> Case:
        return Case(
            When(session_type="team", then=JSONText("team_data", *path)),
            When(session_type="workflow", then=JSONText("workflow_data", *path)),
            default=JSONText("agent_data", *path),
        )

    return {"model_id": of("model", "id"), "model_text": of("model")}


class SummaryPresent(Func):
    """Whether the session has a summary, as the list's "✓ summary" shows it. Twin of `agno.decode_summary`
    returning a Summary: a non-blank string, or an object whose `summary` has text (a non-empty string,
    a structured value) or whose `topics` list names one. Malformed or JSON null: no summary."""

    output_field = BooleanField()

    def __init__(self):
        super().__init__(F("summary"))

    def as_sql(self, compiler, connection, **extra_context):
        column, params = compiler.compile(self.get_source_expressions()[0])
        if params:
            raise ValueError("SummaryPresent reads a column, not an expression with parameters")
        if connection.vendor == "postgresql":
            value = f"{column}::jsonb"
            text = f"{value} -> 'summary'"
            topics = f"{value} -> 'topics'"
            sql = (
                f"coalesce(CASE jsonb_typeof({value}) WHEN 'string' THEN btrim({value} #>> '{{}}') <> ''"
                f" WHEN 'object' THEN (jsonb_typeof({text}) IN ('object', 'number', 'boolean')"
                f" OR (jsonb_typeof({text}) = 'array' AND jsonb_array_length({text}) > 0)"
                f" OR (jsonb_typeof({text}) = 'string' AND {value} ->> 'summary' <> '')"
                f" OR (jsonb_typeof({topics}) = 'array' AND EXISTS (SELECT 1 FROM jsonb_array_elements({topics}) AS topic"
                " WHERE (jsonb_typeof(topic) = 'string' AND topic #>> '{}' <> '') OR jsonb_typeof(topic) = 'number')))"
                " END, false)"
            )
            return sql, []
        document = sqlite_json_document(column)
        sql = (
            f"coalesce(CASE json_type({document}) WHEN 'object' THEN"
            f" (json_type({document}, '$.summary') IN ('object', 'integer', 'real', 'true', 'false')"
            f" OR (json_type({document}, '$.summary') = 'array' AND json_array_length({document}, '$.summary') > 0)"
            f" OR (json_type({document}, '$.summary') = 'text' AND json_extract({document}, '$.summary') <> '')"
            f" OR (json_type({document}, '$.topics') = 'array' AND EXISTS (SELECT 1 FROM json_each({document}, '$.topics')"
            " AS topic WHERE (topic.type = 'text' AND topic.value <> '') OR topic.type IN ('integer', 'real'))))"
            " END, 0)"
        )
        return sql, []


# --- Runs: which stored runs count as a session's own (top-level) runs. ---

# A runs-table row that is no member run. Twin of `agno.nest_runs`, for the simple case of a run
# without `parent_run_id` (a member run whose parent is missing is top level there, and counted here
# under its parent: only malformed data tells them apart).
TOP_LEVEL_RUN_ROW = Q(parent_run_id__isnull=True) | Q(parent_run_id="")


def top_level_run_row_sql(alias: str = "") -> str:
    """SQL condition on a runs-table row: TOP_LEVEL_RUN_ROW, for raw queries."""
    prefix = f"{alias}." if alias else ""
    return f"coalesce({prefix}parent_run_id, '') = ''"


def inline_run_elements(vendor: str, document: str) -> str:
    """SQL: the elements of an inline `runs` array as a table (`item`), none when the value is no array.

    PostgreSQL: `jsonb_array_elements(...) WITH ORDINALITY AS element(item, position)`; SQLite:
    `json_each(...) AS item` (its `key` is the position). `document` is the plain JSON: the column on
    PostgreSQL, `sqlite_json_document(column)` (or a CTE column holding it) on SQLite.
    """
    if vendor == "postgresql":
        return (
            f"jsonb_array_elements(CASE WHEN jsonb_typeof({document}::jsonb) = 'array' THEN {document}::jsonb"
            " ELSE '[]'::jsonb END) WITH ORDINALITY AS element(item, position)"
        )
    return f"json_each(CASE WHEN json_type({document}) = 'array' THEN {document} END) AS item"


def inline_top_level_run(vendor: str) -> str:
    """SQL condition on `item` of `inline_run_elements`: a run object without parent, with no runs-table copy.

    Twin of `agno.decode_runs` (an inline run whose id the runs table holds is that row's backup,
    as Agno 3.x's migration leaves it) and `agno.nest_runs` (a run without `parent_run_id` is top level).
    """
    if vendor == "postgresql":
        return (
            "jsonb_typeof(item) = 'object' AND coalesce(item ->> 'parent_run_id', '') = ''"
            f"{_not_in_runs_table(vendor, 'item')}"
        )
    return (
        "CASE WHEN item.type = 'object' THEN coalesce(json_extract(item.value, '$.parent_run_id'), '') = ''"
        f"{_not_in_runs_table(vendor, 'item.value')} END"
    )


def _not_in_runs_table(vendor: str, run: str) -> str:
    """SQL: ` AND` the inline run has no copy in the 3.x runs table (nothing when there is no runs table)."""
    if not has_runs_table():
        return ""
    run_id = f"{run} ->> 'run_id'" if vendor == "postgresql" else f"json_extract({run}, '$.run_id')"
    return f" AND NOT EXISTS (SELECT 1 FROM {current_source().quoted_runs} AS copy WHERE copy.run_id = {run_id})"


def run_input_sql(vendor: str, run: str) -> str:
    """SQL: a run's input, `input.input_content` (agent and team runs) or `input` itself (workflow runs).

    Twin of the first two rules of `agno.runs._run_input` (the third, the first user message, only
    the detail page's preview needs: see `run_preview_sql`).
    """
    if vendor == "postgresql":
        return (
            f"CASE jsonb_typeof({run} -> 'input') WHEN 'string' THEN {run} ->> 'input'"
            f" ELSE {run} -> 'input' ->> 'input_content' END"
        )
    return (
        f"CASE json_type({run}, '$.input') WHEN 'text' THEN json_extract({run}, '$.input')"
        f" ELSE json_extract({run}, '$.input.input_content') END"
    )


# --- PostgreSQL only: the detail page's timeline reads runs in SQL (queries.timeline). ---


def jsonb_text(value: str, limit: int) -> str:
    """SQL: a jsonb value as text (strings unquoted, JSON null as NULL), cut to `limit` characters.

    Twin of `agno.text_of` for strings; other values are their JSON text.
    """
    return (
        f"left(CASE jsonb_typeof({value}) WHEN 'string' THEN {value} #>> '{{}}'"
        f" WHEN 'null' THEN NULL ELSE ({value})::text END, {limit})"
    )


def jsonb_array(value: str) -> str:
    """SQL: the jsonb value if it is an array, else an empty one. Twin of `agno.as_list`."""
    return f"CASE WHEN jsonb_typeof({value}) = 'array' THEN {value} ELSE '[]'::jsonb END"


def jsonb_epoch_seconds(value: str) -> str:
    """SQL: a created_at (seconds, milliseconds or a numeric string) as seconds, 0 when unreadable.

    Twin of `agno.epoch_to_datetime` (for numbers), as the Python timeline orders runs.
    """
    number = (
        f"CASE WHEN jsonb_typeof({value}) = 'number' THEN ({value})::numeric"
        f" WHEN ({value} #>> '{{}}') ~ '^-?[0-9]+(\\.[0-9]+)?$' THEN ({value} #>> '{{}}')::numeric END"
    )
    return f"COALESCE(CASE WHEN {number} > 1e11 THEN {number} / 1000 ELSE {number} END, 0)"


PREVIEW_KEYS = (
    "run_id", "parent_run_id", "status", "agent_name", "team_name", "workflow_name", "model", "created_at",
    "regenerated_from", "forked_from_run_id", "forked_from_session_id",
)  # fmt: skip


def run_preview_sql(data: str, *, embedded: bool = True) -> str:
    """SQL: what a collapsed run shows, as a small run dict that `agno.decode_run` reads like any other.

    Twin of the fields of `agno.decode_run` that `run_entry.html` shows for a collapsed run.
    """
    first_user_message = (
        f"jsonb_path_query_first({data}, '$.messages[*] ? (@.role == \"user\" && !(@.from_history == true)).content')"
    )
    fields = {key: f"{data} -> '{key}'" for key in PREVIEW_KEYS}
    fields["metrics"] = f"{data} -> 'metrics'"
    input_content = jsonb_text(f"{data} #> '{{input,input_content}}'", 300)
    fields["input"] = (
        f"to_jsonb(COALESCE(NULLIF({input_content}, ''),"
        f" left(CASE WHEN jsonb_typeof({data} -> 'input') = 'string' THEN {data} ->> 'input' END, 300),"
        f" {jsonb_text(first_user_message, 300)}))"
    )
    content = jsonb_text(f"{data} -> 'content'", 400)
    fields["content"] = f"to_jsonb({content})"
    # Whether there are steps tells a workflow run; a collapsed run does not show them.
    fields["step_results"] = f"CASE WHEN {data} -> 'step_results' IS NOT NULL THEN '[]'::jsonb END"
    if embedded:
        # Runs embedded in member_responses go without tool names: a subquery per member run per
        # run makes PostgreSQL's estimate large enough to JIT-compile the query, slower than running it.
        tools = jsonb_array(f"{data} -> 'tools'")
        fields["tools"] = (
            "(SELECT jsonb_agg(jsonb_build_object('tool_name', t.value -> 'tool_name',"
            f" 'tool_call_error', t.value -> 'tool_call_error')) FROM jsonb_array_elements({tools}) AS t(value))"
        )
        for key in ("member_responses", "step_executor_runs"):
            members = jsonb_array(f"{data} -> '{key}'")
            fields[key] = (
                f"(SELECT jsonb_agg({run_preview_sql('m.value', embedded=False)})"
                f" FROM jsonb_array_elements({members}) AS m(value))"
            )
    pairs = ", ".join(f"'{key}', {value}" for key, value in fields.items())
    return (
        f"CASE WHEN jsonb_typeof({data}) = 'object' THEN jsonb_strip_nulls(jsonb_build_object({pairs})) ELSE {data} END"
    )

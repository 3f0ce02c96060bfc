"""What the user may change: a session's name, state, metadata and summary, and which sessions to delete.

Validation, and an edit's one conditional UPDATE (as a ModelForm saves). Agno rewrites a session row
at the end of every run. So an edit writes only the columns (and the session_data keys) the user
changed, and only while the row still holds what the form was loaded with: the same `updated_at`, and
the same stored session_data, metadata and summary (the form's `version`, a hash of them: Agno's
updated_at is in whole seconds, so a write in the second the form was loaded leaves it unchanged).
Deletes and the audit log are `sessions_ui.changes`.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from datetime import UTC, datetime
from typing import Any

from django import forms
from django.contrib.admin.models import CHANGE
from django.db import OperationalError, transaction
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.http import QueryDict
from django.utils.functional import cached_property

from sessions_ui import agno
from sessions_ui.changes import edit_message, log
from sessions_ui.filters import SessionFilter
from sessions_ui.models import SessionColumns
from sessions_ui.sources import current_source

SUMMARY_KEYS = {"summary", "topics", "updated_at"}
# The columns an edit rewrites: the form's version is a hash of their stored text.
EDITED_COLUMNS = ("session_data", "metadata", "summary")
MAX_SELECTED = 1000


class StaleEdit(Exception):
    """The row changed since the form was loaded, or is being written right now: nothing was written."""


class SessionGone(Exception):
    """The session no longer exists."""


def edit_queryset() -> QuerySet:
    """The columns the edit form shows: not the runs, nor the component configuration."""
    return current_source().Session.objects.only(
        "session_id", "session_type", "agent_id", "team_id", "workflow_id", "user_id",
        "session_data", "metadata", "summary", "created_at", "updated_at",
    )  # fmt: skip


def stored_version(row: SessionColumns) -> str:
    """A hash of the stored text of the edited columns: it changes with any write to them, whatever the clock."""
    texts = [getattr(row, column) for column in EDITED_COLUMNS]
    return hashlib.sha256(json.dumps(texts).encode()).hexdigest()[:32]


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    """A JSON number as a float, refusing one too large for a float: Python would make it Infinity,
    which PostgreSQL's jsonb rejects (a 500) and SQLite would store as the invalid JSON `Infinity`."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is too large to store (at most about 1.8e308)")
    return value


# Left after json.loads, which joins escaped pairs (\ud83d\ude00) into one character: only lone halves.
_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_json(text: str) -> Any:
    """Parse what the user typed; ValidationError (with line and column) for anything Agno could not store."""
    # Deeper than the pages can show (agno.MAX_DEPTH); one level is kept for session_data, which holds the state.
    too_deep = forms.ValidationError(
        "Nested too deeply: at most %(depth)s levels of lists and objects.",
        params={"depth": agno.MAX_DEPTH - 1},
        code="too_deep",
    )
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except json.JSONDecodeError as error:
        raise forms.ValidationError(
            "Invalid JSON: %(message)s (line %(line)s, column %(column)s).",
            params={"message": error.msg, "line": error.lineno, "column": error.colno},
            code="invalid_json",
        ) from error
    except ValueError as error:
        raise forms.ValidationError(
            "Invalid JSON: %(message)s.", params={"message": error}, code="invalid_json"
        ) from error
    except RecursionError as error:
        raise too_deep from error
    if agno.nests_deeper_than(value, agno.MAX_DEPTH - 1):
        raise too_deep
    # Control characters stay escaped with ensure_ascii=False; other text stays as it is, so a lone
    # surrogate (which UTF-8, PostgreSQL and Agno's SQLite text cannot hold) is still findable.
    dumped = json.dumps(value, ensure_ascii=False)
    if "\\u0000" in dumped:
        raise forms.ValidationError("Text may not contain NUL characters (\\u0000).", code="null_characters")
    if surrogate := _SURROGATE.search(dumped):
        raise forms.ValidationError(
            "Text may not contain %(escape)s on its own: it is half of a UTF-16 pair, which cannot be stored.",
            params={"escape": f"\\u{ord(surrogate.group()):04x}"},
            code="lone_surrogate",
        )
    return value


def _type_name(value: Any) -> str:
    return {list: "a list", str: "a string", bool: "true/false", type(None): "null"}.get(type(value), "a number")


def parse_object(text: str, *, what: str, nullable: bool) -> dict | None:
    if not text.strip():
        if nullable:
            return None
        raise forms.ValidationError("Enter a JSON object ({} for an empty %(what)s).", params={"what": what})
    value = parse_json(text)
    if value is None and nullable:
        return None
    if not isinstance(value, dict):
        raise forms.ValidationError(
            "The %(what)s must be a JSON object {…}%(null)s, not %(found)s.",
            params={"what": what, "null": " or null" if nullable else "", "found": _type_name(value)},
            code="not_an_object",
        )
    return value


def parse_summary(text: str) -> dict | None:
    """A summary as Agno's SessionSummary.from_dict() accepts it (it raises on any other key)."""
    value = parse_object(text, what="summary", nullable=True)
    if value is None:
        return None
    problems = []
    if extra := sorted(set(value) - SUMMARY_KEYS):
        problems.append(f"unknown keys {', '.join(extra)} (Agno accepts summary, topics and updated_at)")
    if not isinstance(value.get("summary"), str):
        problems.append('"summary" must be a string')
    topics = value.get("topics")
    if topics is not None and not (isinstance(topics, list) and all(isinstance(t, str) for t in topics)):
        problems.append('"topics" must be a list of strings')
    updated_at = value.get("updated_at")
    if updated_at:
        try:
            datetime.fromisoformat(updated_at)
        except (TypeError, ValueError):
            problems.append('"updated_at" must be an ISO date-time such as "2026-01-31T12:00:00+00:00"')
    if problems:
        raise forms.ValidationError(
            "Not a summary Agno can read: %(problems)s.", params={"problems": "; ".join(problems)}
        )
    return value


def short(value: Any, limit: int = 80) -> str:
    """A one-line preview of a value for the audit log."""
    text = "null" if value is None else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


FIELD_LABELS = {
    "session_name": "session name",
    "session_state": "session state",
    "metadata": "metadata",
    "summary": "summary",
}


class SessionEditForm(forms.Form):
    """Bound to a session row: knows what the user was shown, so it can tell what they changed.

    A field left out of the POST, or sent back exactly as shown, is not written. JSON that parses
    to the stored value (reformatted, say) is not a change either.
    """

    session_name = forms.CharField(required=False, strip=False, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    session_state = forms.CharField(required=False, strip=False, widget=forms.Textarea(attrs={"rows": 8}))
    metadata = forms.CharField(
        required=False, strip=False, widget=forms.Textarea(attrs={"rows": 6}), help_text="A JSON object, or empty."
    )
    summary_text = forms.CharField(label="Text", required=False, strip=False, widget=forms.Textarea(attrs={"rows": 3}))
    summary_topics = forms.CharField(
        label="Topics", required=False, strip=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="One per line."
    )
    summary = forms.CharField(
        label="Summary as JSON",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text='{"summary": "…", "topics": ["…"]}, or empty for none.',
    )
    updated_at = forms.CharField(required=False, widget=forms.HiddenInput)
    # Optional for scripts that post updated_at alone (design.md's POST fields); the form always sends it.
    version = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, data: QueryDict | None = None, *, row: SessionColumns):
        self.row = row
        self.session = agno.decode_session(row)
        self.session_data_malformed = isinstance(self.session.session_data, agno.Malformed)
        session_data = agno.as_dict(self.session.session_data)
        summary = agno.decode_json(row.summary)
        # The stored values, decoded: what a submitted value is compared with.
        self.current = {
            "session_name": session_data.get("session_name"),
            "session_state": session_data.get("session_state"),
            "metadata": agno.decode_json(row.metadata),
            "summary": summary,
        }
        structured = agno.decode_summary(row.summary)
        structured = structured if isinstance(structured, agno.Summary) else None
        name = self.current["session_name"]
        state = self.current["session_state"]
        initial = {
            "session_name": name if isinstance(name, str) else agno.session_name(session_data),
            "session_state": agno.pretty_json(state if state is not None else {}),
            "metadata": "" if self.current["metadata"] is None else agno.pretty_json(self.current["metadata"]),
            "summary": "" if summary is None else agno.pretty_json(summary),
            "summary_text": structured.text if structured else "",
            "summary_topics": "\n".join(structured.topics) if structured else "",
            "updated_at": "" if row.updated_at is None else str(row.updated_at),
            "version": stored_version(row),
        }
        super().__init__(data, initial=initial)
        if self.session_data_malformed:
            for name in ("session_name", "session_state"):
                self.fields[name].widget.attrs["disabled"] = True
                self.fields[name].help_text = "Not editable: session_data cannot be read as an object."
        self.changes: dict[str, Any] = {}

    def clean_updated_at(self) -> int | None:
        if "updated_at" not in self.data:
            raise forms.ValidationError("Send the updated_at that the form was loaded with (empty for none).")
        value = self.cleaned_data["updated_at"].strip()
        if not value:
            return None
        try:
            return int(value)
        except ValueError:
            raise forms.ValidationError("Reload the form: its updated_at is not a number.") from None

    @property
    def loaded_updated_at(self) -> int | None:
        return self.cleaned_data.get("updated_at") if hasattr(self, "cleaned_data") else None

    @property
    def loaded_version(self) -> str:
        """The version the form was loaded with, "" when the POST did not send one."""
        return self.data.get("version", "").strip()

    @property
    def is_stale(self) -> bool:
        """The form was loaded from an older version of the row (its `updated_at` or its stored values differ)."""
        if "updated_at" in self.errors:
            return False
        changed = self.loaded_version and self.loaded_version != stored_version(self.row)
        return bool(changed) or self.loaded_updated_at != self.row.updated_at

    def _submitted(self, name: str) -> str | None:
        """What the user sent for a field, None when it was left out or sent back unchanged."""
        if name not in self.data or name in self.errors:
            return None
        text = _lines(self.cleaned_data.get(name, ""))
        return None if text == _lines(self.initial[name]) else text

    def clean(self):
        cleaned = super().clean()
        parsers = {
            "session_name": lambda text: text.strip() or None,
            "session_state": lambda text: parse_object(text, what="session state", nullable=False),
            "metadata": lambda text: parse_object(text, what="metadata", nullable=True),
            "summary": parse_summary,
        }
        for name, parse in parsers.items():
            text = self._submitted(name)
            if text is None:
                continue
            if name in ("session_name", "session_state") and self.session_data_malformed:
                self.add_error(
                    name, "Not saved: session_data cannot be read as an object, and rewriting it would destroy it."
                )
                continue
            try:
                value = parse(text)
            except forms.ValidationError as error:
                self.add_error(name, error)
                continue
            if value != self.current[name]:
                self.changes[name] = value
        text, topics = self._submitted("summary_text"), self._submitted("summary_topics")
        if text is not None or topics is not None:
            # Text and topics win over the JSON field: they are what the form shows first.
            self.changes.pop("summary", None)
            self.errors.pop("summary", None)
            text = _lines(cleaned.get("summary_text", "")).strip()
            topic_list = [
                line.strip() for line in _lines(cleaned.get("summary_topics", "")).split("\n") if line.strip()
            ]
            if text or topic_list:
                summary = {"summary": text, "updated_at": datetime.now(UTC).isoformat(timespec="seconds")}
                if topic_list:
                    summary["topics"] = topic_list
                self.changes["summary"] = summary
            elif self.current["summary"] is not None:
                self.changes["summary"] = None
        return cleaned

    def attempted(self, current: SessionEditForm) -> list[tuple[str, str]]:
        """What the user typed where it differs from the `current` form, to show beside a refused edit."""
        return [
            (self.fields[name].label or FIELD_LABELS[name], self.data[name])
            for name in ("session_name", "session_state", "metadata", "summary_text", "summary_topics", "summary")
            if name in self.data and _lines(self.data[name]) != _lines(current.initial[name])
        ]

    @cached_property
    def change_message(self) -> str:
        """What the edit changes, for the message after saving (the audit log keeps it as changes.edit_message)."""
        parts = [
            f"{FIELD_LABELS[name]} ({short(self.current[name])} → {short(value)})"
            for name, value in self.changes.items()
        ]
        return "Changed " + "; ".join(parts) + "."

    def save(self, user) -> list[str]:
        """Write the changes with one conditional UPDATE; returns the changed field names.

        Raises StaleEdit when the row no longer has the loaded `updated_at` or version (nothing is
        written), SessionGone when it was deleted. The UPDATE's condition holds the stored text of the
        edited columns as read and checked here, so a write that slips in between is refused as well.
        """
        if not self.changes:
            return []
        loaded = self.loaded_updated_at
        source = current_source()
        connection = source.connection
        try:
            with transaction.atomic(using=connection.alias):
                # Row-locked on PostgreSQL, so the session_data we merge into is the one we overwrite.
                stored = {f"stored_{column}": Cast(column, TextField()) for column in EDITED_COLUMNS}
                row = edit_queryset().annotate(**stored).select_for_update().filter(pk=self.row.pk).first()
                if row is None:
                    raise SessionGone(self.row.pk)
                if self.loaded_version and self.loaded_version != stored_version(row):
                    raise StaleEdit(self.row.pk)
                columns = self._columns(row)
                same_version = Q(updated_at__isnull=True) if loaded is None else Q(updated_at=loaded)
                same_values = {name: getattr(row, name) for name in stored}
                unchanged = source.Session.objects.alias(**stored).filter(same_version, pk=row.pk, **same_values)
                if unchanged.update(**columns) != 1:
                    raise StaleEdit(self.row.pk)
                message = edit_message(FIELD_LABELS, self.current, self.changes)
                log(user, [(row.pk, self.session.display_name)], CHANGE, message)
        except OperationalError as error:
            # SQLite refuses our write when another connection wrote the database since we read it
            # ("database is locked"); any other error (a dropped column, say) is a fault (faults.py).
            if connection.vendor != "sqlite" or "locked" not in str(error):
                raise
            raise StaleEdit(self.row.pk) from error
        return list(self.changes)

    def _columns(self, row: SessionColumns) -> dict[str, Any]:
        columns: dict[str, Any] = {}
        if "session_name" in self.changes or "session_state" in self.changes:
            session_data = agno.decode_dict(row.session_data)
            if isinstance(session_data, agno.Malformed):
                raise StaleEdit(row.pk)
            session_data = dict(session_data or {})
            if "session_name" in self.changes:
                if self.changes["session_name"] is None:
                    session_data.pop("session_name", None)
                else:
                    session_data["session_name"] = self.changes["session_name"]
            if "session_state" in self.changes:
                session_data["session_state"] = self.changes["session_state"]
            columns["session_data"] = session_data
        for name in ("metadata", "summary"):
            if name in self.changes:
                columns[name] = self.changes[name]
        columns["updated_at"] = int(time.time())
        return columns


def fingerprint(session_ids: list[str]) -> str:
    """What names a set of ids (in any order) in a confirmation form: too many to carry, but checkable."""
    return hashlib.sha256("\x00".join(sorted(session_ids)).encode()).hexdigest()[:32]


class BulkDeleteForm(forms.Form):
    """Which sessions a bulk delete means: the selected ids, or all that match the list's filters.

    "All matching" is confirmed by the fingerprint of the ids its confirmation showed: the confirmed
    delete takes exactly those ids, or none when the filters now match others (a session that arrived,
    one that left).
    """

    session_ids = forms.Field(required=False, widget=forms.MultipleHiddenInput)
    all_matching = forms.BooleanField(required=False)
    expected = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    fingerprint = forms.CharField(required=False, widget=forms.HiddenInput)

    filterset = None

    def clean_session_ids(self) -> list[str]:
        session_ids = list(dict.fromkeys(self.cleaned_data["session_ids"] or []))
        if len(session_ids) > MAX_SELECTED:
            raise forms.ValidationError(
                "Select at most %(max)s sessions at once, or delete all that match the filters.",
                params={"max": MAX_SELECTED},
            )
        return [session_id for session_id in session_ids if "\x00" not in session_id]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("all_matching"):
            self.filterset = SessionFilter(self.data, queryset=current_source().Session.objects.all())
            if not self.filterset.is_valid():
                errors = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in self.filterset.errors.items())
                raise forms.ValidationError(
                    "The filters are not valid, so nothing was selected: %(errors)s", params={"errors": errors}
                )
        elif not cleaned.get("session_ids") and "session_ids" not in self.errors:
            raise forms.ValidationError("Select the sessions to delete first.")
        return cleaned

    def sessions(self) -> QuerySet:
        if self.filterset is not None:
            return self.filterset.qs
        return current_source().Session.objects.filter(pk__in=self.cleaned_data["session_ids"])

    def matching_ids(self) -> list[str]:
        """The ids that all the matching sessions are now (read once: what the fingerprint is checked on)."""
        return list(self.filterset.qs.order_by().values_list("pk", flat=True))

    def selection(self) -> list[tuple[str, str]]:
        """The fields that name this selection besides the list's parameters, for the confirmation to send again."""
        name = "all_matching" if self.cleaned_data.get("all_matching") else "session_ids"
        return [(name, value) for value in self.data.getlist(name)]

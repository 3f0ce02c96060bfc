"""One way to show a moment on every page: `{{ value|when }}`.

The absolute time is ISO-like and 24 h, in the viewer's time zone (Django's current time zone,
TIME_ZONE unless activated otherwise) with the zone named, the year only when it is not this year:
`11-22 23:53 UTC`, `2025-11-22 23:53 UTC`. The relative time ("3 days ago") is a hint beside it, or
in its title where a line has no room (`|when:"short"`). The list's Jinja2 table uses `when_html`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince

from sessions_ui import agno

register = template.Library()


@dataclass(frozen=True, slots=True)
class Moment:
    iso: str  # the <time datetime="...">
    text: str  # "11-22 23:53 UTC"
    exact: str  # "2026-11-22 23:53:07 UTC"
    ago: str  # "3 days ago"


def moment(value: datetime, zone: tzinfo | None = None, now: datetime | None = None) -> Moment:
    now = now or timezone.now()
    zone = zone or timezone.get_current_timezone()
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_default_timezone())
    local, local_now = value.astimezone(zone), now.astimezone(zone)
    name = local.tzname() or ""
    day = f"{local:%m-%d}" if local.year == local_now.year else f"{local.year:04d}-{local:%m-%d}"
    return Moment(
        iso=local.isoformat(),
        text=f"{day} {local:%H:%M} {name}".rstrip(),
        exact=f"{local.year:04d}-{local:%m-%d %H:%M:%S} {name}".rstrip(),
        ago=ago(value, now),
    )


def when_html(value: datetime | None, style: str = "", zone: tzinfo | None = None, now: datetime | None = None) -> str:
    """`<time>` with the absolute time, and the relative hint beside it (or, with style "short", in its title)."""
    if not isinstance(value, datetime):
        return ""
    shown = moment(value, zone, now)
    if style == "short":
        return format_html(
            '<time datetime="{}" title="{} · {}">{}</time>', shown.iso, shown.exact, shown.ago, shown.text
        )
    return format_html(
        '<time datetime="{}" title="{}">{}</time> <span class="ago">{}</span>',
        shown.iso,
        shown.exact,
        shown.text,
        shown.ago,
    )


@register.filter
def when(value: datetime | None, style: str = "") -> SafeString:
    return when_html(value, style)


@register.filter
def stored_time(value: Any) -> datetime | None:
    """A time as Agno keeps it inside its JSON (an event's `created_at`: epoch seconds), for `|when`."""
    return agno.epoch_to_datetime(value)


def ago(value: datetime, now: datetime | None = None) -> str:
    """ "3 hours ago": the largest unit only (naturaltime says "2 weeks, 3 days ago", too wide for a cell)."""
    now = now or timezone.now()
    if value > now:
        return f"in {_since(now, value)}"
    if (now - value).total_seconds() < 60:
        return "just now"
    return f"{_since(value, now)} ago"


UNITS = ((7 * 24 * 3600, "week"), (24 * 3600, "day"), (3600, "hour"), (60, "minute"))


def _since(earlier: datetime, later: datetime) -> str:
    """timesince(earlier, later, depth=1), without its calendar arithmetic (and lazy text) under four weeks."""
    delta = later - earlier
    if delta.days >= 28:
        return timesince(earlier, later, depth=1)
    seconds = delta.days * 24 * 3600 + delta.seconds
    for unit, name in UNITS:
        if seconds >= unit:
            count = seconds // unit
            return f"{count}\xa0{name}{'' if count == 1 else 's'}"
    return "0\xa0minutes"

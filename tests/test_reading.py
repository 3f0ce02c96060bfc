"""Issue 19, items 4, 6 and 8: one date format, previews that read well, a readable audit log."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import timezone

from sessions_ui.templatetags.dates import moment, when_html

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)


def test_a_moment_of_this_year_leaves_the_year_out_and_names_the_zone():
    shown = moment(datetime(2026, 11, 22, 23, 53, 7, tzinfo=UTC), ZoneInfo("UTC"), NOW)
    assert shown.text == "11-22 23:53 UTC"
    assert shown.exact == "2026-11-22 23:53:07 UTC"
    assert shown.iso == "2026-11-22T23:53:07+00:00"
    assert shown.ago == "1\xa0week ago"


def test_a_moment_of_another_year_shows_the_year():
    shown = moment(datetime(2025, 12, 31, 23, 0, tzinfo=UTC), ZoneInfo("UTC"), NOW)
    assert shown.text == "2025-12-31 23:00 UTC"
    assert shown.ago == "11\xa0months ago"


def test_a_moment_is_shown_in_the_viewers_zone_and_its_year_there():
    # 23:30 UTC on New Year's Eve is already next year in Berlin: the year is the local one.
    shown = moment(datetime(2025, 12, 31, 23, 30, tzinfo=UTC), ZoneInfo("Europe/Berlin"), NOW)
    assert shown.text == "01-01 00:30 CET"
    assert shown.iso == "2026-01-01T00:30:00+01:00"
    summer = moment(datetime(2026, 7, 1, 12, 0, tzinfo=UTC), ZoneInfo("Europe/Berlin"), NOW)
    assert summer.text == "07-01 14:00 CEST"


def test_when_is_a_time_element_with_the_relative_hint_beside_it_or_in_its_title():
    value = NOW - timedelta(hours=3)
    assert when_html(value, zone=ZoneInfo("UTC"), now=NOW) == (
        '<time datetime="2026-12-01T15:00:00+00:00" title="2026-12-01 15:00:00 UTC">12-01 15:00 UTC</time>'
        ' <span class="ago">3\xa0hours ago</span>'
    )
    assert when_html(value, "short", zone=ZoneInfo("UTC"), now=NOW) == (
        '<time datetime="2026-12-01T15:00:00+00:00" title="2026-12-01 15:00:00 UTC · 3\xa0hours ago">12-01 15:00 UTC</time>'
    )
    assert when_html(None) == ""
    assert moment(NOW + timedelta(minutes=5), ZoneInfo("UTC"), NOW).ago == "in 5\xa0minutes"
    assert moment(NOW - timedelta(seconds=5), ZoneInfo("UTC"), NOW).ago == "just now"


def test_the_template_filter_uses_the_current_time_zone():
    template = Template("{% load dates %}{{ value|when }}")
    with timezone.override(ZoneInfo("America/New_York")):
        html = template.render(Context({"value": timezone.now() - timedelta(days=2)}))
    assert re.fullmatch(
        r'<time datetime="[^"]+-0[45]:00" title="[^"]+ E[SD]T">(\d{4}-)?\d\d-\d\d \d\d:\d\d E[SD]T</time>'
        r' <span class="ago">2\xa0days ago</span>',
        html,
    )

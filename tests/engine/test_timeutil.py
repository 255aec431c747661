"""RFC 3339 on the wire, integer epoch milliseconds inside."""

from __future__ import annotations

import pytest

from presence.timeutil import format_opt, format_time, parse_time

BASE = 1_795_420_800_000  # 2026-11-23T08:00:00Z


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        pytest.param("2026-11-23T08:00:00Z", BASE, id="utc-z"),
        pytest.param("2026-11-23T08:00:00+00:00", BASE, id="utc-offset"),
        pytest.param("2026-11-23T16:00:00+08:00", BASE, id="shanghai"),
        pytest.param("2026-11-23T03:00:00-05:00", BASE, id="negative-offset"),
        pytest.param("2026-11-24T00:30:00+16:30", BASE, id="odd-offset-across-midnight"),
        pytest.param("2026-11-23T08:00:00.5Z", BASE + 500, id="tenths"),
        pytest.param("2026-11-23T08:00:00.123Z", BASE + 123, id="millis"),
        pytest.param("2026-11-23T08:00:00.999999Z", BASE + 999, id="micros-truncate"),
        pytest.param("1970-01-01T00:00:00Z", 0, id="epoch"),
        pytest.param("1969-12-31T23:59:59.999Z", -1, id="before-epoch"),
        pytest.param("2026-11-23t08:00:00z", BASE, id="lowercase-t-and-z"),
        pytest.param("2026-11-23T08:00:00.123456789Z", BASE + 123, id="nanos-truncate"),
    ],
)
def test_parse(text, ms):
    assert parse_time(text) == ms


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "2026-11-23T08:00:00.000",
            "'2026-11-23T08:00:00.000' has no UTC offset; add 'Z' or '+08:00'",
            id="no-offset-fraction",
        ),
        pytest.param(
            "2026-11-23T08:00:00",
            "'2026-11-23T08:00:00' has no UTC offset; add 'Z' or '+08:00'",
            id="no-offset",
        ),
        pytest.param(
            "2026-11-23",
            "'2026-11-23' is not an RFC 3339 time like '2026-11-23T08:00:00Z'",
            id="date-only",
        ),
        pytest.param(
            "yesterday at noon!!!",
            "'yesterday at noon!!!' is not an RFC 3339 time like '2026-11-23T08:00:00Z'",
            id="words",
        ),
        pytest.param(
            "2026-13-23T08:00:00Z",
            "'2026-13-23T08:00:00Z' is not an RFC 3339 time like '2026-11-23T08:00:00Z'",
            id="month-13",
        ),
        pytest.param("", "'' is not an RFC 3339 time like '2026-11-23T08:00:00Z'", id="empty"),
        pytest.param(
            "2026-11-23T08:00:00+0800",
            "'2026-11-23T08:00:00+0800' is not an RFC 3339 time like '2026-11-23T08:00:00Z'",
            id="offset-without-colon",
        ),
        pytest.param(
            "20261123T080000.000Z",
            "'20261123T080000.000Z' is not an RFC 3339 time like '2026-11-23T08:00:00Z'",
            id="basic-iso-format",
        ),
    ],
)
def test_parse_refuses_with_a_message_naming_the_text(text, message):
    with pytest.raises(ValueError) as err:
        parse_time(text)
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        pytest.param(BASE, "2026-11-23T08:00:00Z", id="whole-second"),
        pytest.param(BASE + 7, "2026-11-23T08:00:00.007Z", id="millis"),
        pytest.param(0, "1970-01-01T00:00:00Z", id="epoch"),
        pytest.param(-1, "1969-12-31T23:59:59.999Z", id="before-epoch"),
    ],
)
def test_format(ms, text):
    assert format_time(ms) == text
    assert parse_time(text) == ms


def test_format_opt():
    assert format_opt(None) is None
    assert format_opt(BASE) == "2026-11-23T08:00:00Z"

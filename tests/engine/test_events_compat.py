"""Journals outlive releases: records written by older versions must still decode."""

from __future__ import annotations

import msgspec

from engine.events import SettingsChanged, decode_record


def test_settings_changed_from_before_contest_settings_decodes_with_defaults() -> None:
    # The array-like encoding of a record as the first release wrote it: 3 settings fields.
    old = msgspec.msgpack.encode([1_000, [["SettingsChanged", 120, 300, "UTC"]]])
    record = decode_record(old)
    assert record.at == 1_000
    assert record.events == [SettingsChanged(120, 300, "UTC", (3, 2, 1), 3)]

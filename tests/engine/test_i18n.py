"""The catalogues: every language says everything English says, with the same fields."""

from __future__ import annotations

import string

import pytest

from engine.errors import Invalid
from engine.i18n import LANGUAGES, catalogue, check_language, leaves


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_catalogue_is_objects_of_strings(lang: str) -> None:
    """Sections nest objects (the board's `stateName.away`), and every leaf is a string: no
    arrays or numbers, which the comparison below would not see into."""
    for key, value in leaves(catalogue(lang)).items():
        assert isinstance(value, str), (lang, key, value)
    assert catalogue(lang)["board"], f"{lang} has no board strings"


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_every_string_is_translated_with_the_same_fields(lang: str) -> None:
    english, other = leaves(catalogue("en")), leaves(catalogue(lang))
    assert set(other) == set(english), set(other) ^ set(english)
    for key, text in english.items():
        assert _fields(other[key]) == _fields(text), key
        assert other[key].strip(), key


def test_english_csv_names_are_the_machine_names_integrations_read() -> None:
    names = catalogue("en")["payroll"]["csv"]
    assert all(v == k for k, v in names.items() if not k.startswith("tier_")), names


def test_an_unknown_language_names_the_choices() -> None:
    with pytest.raises(Invalid) as caught:
        check_language("de", "lang")
    assert caught.value.message == "lang 'de' is not one of en, zh-CN"
    assert caught.value.detail == {"field": "lang"}

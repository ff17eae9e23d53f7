"""The Arabic catalogue: complete, faithful to its placeholders, and up to date with the code.

Arabic is the default language and the msgids are English, so a string without an
Arabic translation shows English on an Arabic page. These tests read the committed
`tawasul/locale/ar/LC_MESSAGES/django.po` with a small parser (no new dependency),
and extract the messages afresh from the code into a temporary copy of the tree to
catch a string added without its translation.
"""

from __future__ import annotations

import ast
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.management import call_command
from django.template.loader import render_to_string
from django.utils import translation

from tawasul.channels.notifications import NOTIFICATIONS
from tawasul.core.errors import InvalidInput
from tawasul.core.validators import national_id_clean

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "tawasul"
CATALOGUE = PACKAGE_DIR / "locale" / "ar" / "LC_MESSAGES" / "django.po"
# The same extraction as `make messages-extract`, run from tawasul/.
EXTRACT_OPTIONS = {"locale": ["ar"], "extensions": ["html,txt,py"], "no_obsolete": True}
ARABIC_PLURAL_FORMS = (
    "nplurals=6; plural=n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : "
    "n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5;"
)
ARABIC_LETTER = re.compile("[\u0621-\u064a]")
# An SMS in Arabic is sent as UCS-2: 70 characters fit in one part.
ARABIC_SMS_PART = 70
# {name} (str.format), %(name)s / %(count)d (named), %s / %d (positional); %% is a literal.
PLACEHOLDER = re.compile(r"(?<!%)(?:%%)*(\{[A-Za-z_]\w*\}|%\([A-Za-z_]\w*\)[sdif]|%[sdif])")


# --- a small .po parser -------------------------------------------------------------------


@dataclass
class Entry:
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    references: list[str] = field(default_factory=list)
    line: int = 0

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None


_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")\s*$')


def _unquote(literal: str) -> str:
    """A PO string literal ("…" with C escapes) as text."""
    return ast.literal_eval(literal)


def po_parse(text: str) -> list[Entry]:
    """Entries of a PO file, with multi-line strings joined; obsolete (#~) entries left out."""
    entries: list[Entry] = []
    entry = Entry()
    started = False
    field_name: tuple[str, int | None] | None = None

    def finish() -> None:
        nonlocal entry, started, field_name
        if started:
            entries.append(entry)
        entry, started, field_name = Entry(), False, None

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            if started and not line:
                finish()
            continue
        if line.startswith("#"):
            if field_name is not None and field_name[0] == "msgstr":
                finish()  # a comment opens the next entry even without a blank line
            if line.startswith("#,"):
                entry.flags.update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#:"):
                entry.references.extend(line[2:].split())
            continue
        if line.startswith('"'):
            if field_name is None:
                raise ValueError(f"line {number}: a continuation string without a keyword")
            _append(entry, field_name, _unquote(line))
            continue
        match = _KEYWORD.match(line)
        if match is None:
            raise ValueError(f"line {number}: cannot read {line!r}")
        keyword, index, literal = match.groups()
        if keyword in {"msgctxt", "msgid"} and field_name is not None and field_name[0] == "msgstr":
            finish()  # a new entry without a blank line before it
        if not started:
            entry.line, started = number, True
        field_name = (
            ("msgstr", int(index or 0)) if keyword.startswith("msgstr") else (keyword, None)
        )
        _append(entry, field_name, _unquote(literal), start=True)
    finish()
    return entries


def _append(entry: Entry, name: tuple[str, int | None], value: str, *, start: bool = False) -> None:
    keyword, index = name
    if keyword == "msgstr":
        assert index is not None
        entry.msgstr[index] = ("" if start else entry.msgstr.get(index, "")) + value
    elif keyword == "msgctxt":
        entry.msgctxt = value if start else (entry.msgctxt or "") + value
    elif keyword == "msgid_plural":
        entry.msgid_plural = value if start else (entry.msgid_plural or "") + value
    else:
        entry.msgid = value if start else entry.msgid + value


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def describe(entry: Entry) -> str:
    return f"line {entry.line}: {entry.msgid!r}"


@pytest.fixture(scope="module")
def catalogue() -> list[Entry]:
    return po_parse(CATALOGUE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def messages(catalogue: list[Entry]) -> list[Entry]:
    return [entry for entry in catalogue if not entry.is_header]


# --- the parser itself ------------------------------------------------------------------------


def test_the_parser_joins_multi_line_strings_and_reads_plurals_and_flags():
    text = r"""
msgid ""
msgstr ""
"Language: ar\n"

#: a.py:1 b.html:2
#, python-format
msgid ""
"first line "
"and \"second\""
msgstr "سطر "
"ثانٍ"

#, fuzzy
msgctxt "menu"
msgid "%(count)d file"
msgid_plural "%(count)d files"
msgstr[0] "صفر"
msgstr[5] "%(count)d ملف"

#~ msgid "gone"
#~ msgstr "ذهب"
"""
    header, long, plural = po_parse(text)

    assert header.is_header
    assert header.msgstr == {0: "Language: ar\n"}
    assert (long.msgid, long.msgstr, long.flags) == (
        'first line and "second"',
        {0: "سطر ثانٍ"},
        {"python-format"},
    )
    assert long.references == ["a.py:1", "b.html:2"]
    assert plural.key == ("menu", "%(count)d file")
    assert plural.msgid_plural == "%(count)d files"
    assert plural.msgstr == {0: "صفر", 5: "%(count)d ملف"}
    assert "fuzzy" in plural.flags


def test_placeholders_of_every_style_are_found_and_a_literal_percent_is_not():
    found = placeholders("{min} to {max}: %(name)s has %(count)d, %s and %d; 100%% sure")
    assert found == {"{min}", "{max}", "%(name)s", "%(count)d", "%s", "%d"}


# --- the committed catalogue -------------------------------------------------------------------


def test_the_header_is_arabic_with_six_plural_forms_and_not_fuzzy(catalogue):
    [header] = [entry for entry in catalogue if entry.is_header]
    fields = dict(line.split(": ", 1) for line in header.msgstr[0].splitlines() if ": " in line)

    assert "fuzzy" not in header.flags
    assert fields["Language"] == "ar"
    assert fields["Content-Type"] == "text/plain; charset=UTF-8"
    assert fields["Plural-Forms"] == ARABIC_PLURAL_FORMS


def test_no_entry_is_fuzzy_or_untranslated(messages):
    assert messages, "the catalogue has no entries"
    fuzzy = [describe(entry) for entry in messages if "fuzzy" in entry.flags]
    nplurals = 6
    empty = [
        describe(entry)
        for entry in messages
        if not entry.msgstr
        or any(not text.strip() for text in entry.msgstr.values())
        or (entry.msgid_plural is not None and sorted(entry.msgstr) != list(range(nplurals)))
    ]

    assert fuzzy == [], "fuzzy entries:\n" + "\n".join(fuzzy)
    assert empty == [], "entries without a (complete) translation:\n" + "\n".join(empty)


def test_every_translation_keeps_every_placeholder(messages):
    broken = []
    for entry in messages:
        expected = placeholders(entry.msgid) | placeholders(entry.msgid_plural or "")
        for index, text in entry.msgstr.items():
            if missing := expected - placeholders(text):
                broken.append(f"{describe(entry)} msgstr[{index}] lacks {sorted(missing)}")
            if extra := placeholders(text) - expected:
                broken.append(f"{describe(entry)} msgstr[{index}] adds {sorted(extra)}")

    assert broken == [], "\n".join(broken)


def test_every_translation_is_in_arabic(messages):
    not_arabic = [
        f"{describe(entry)} → {text!r}"
        for entry in messages
        for text in entry.msgstr.values()
        if not ARABIC_LETTER.search(text)
    ]

    assert not_arabic == [], "\n".join(not_arabic)


def test_the_catalogue_is_up_to_date_with_the_code(messages, tmp_path, settings, monkeypatch):
    # Given the code as it is now, copied without its catalogue
    tree = tmp_path / "tawasul"
    shutil.copytree(
        PACKAGE_DIR, tree, ignore=shutil.ignore_patterns("locale", "__pycache__", "static")
    )
    settings.LOCALE_PATHS = [tree / "locale"]
    monkeypatch.chdir(tree)

    # When the messages are extracted afresh
    call_command("makemessages", verbosity=0, **EXTRACT_OPTIONS)
    fresh = po_parse((tree / "locale/ar/LC_MESSAGES/django.po").read_text(encoding="utf-8"))

    # Then every one of them is in the committed catalogue
    committed = {entry.key: entry for entry in messages}
    missing = [
        f"{entry.msgid!r} ({' '.join(entry.references)})"
        for entry in fresh
        if not entry.is_header and entry.key not in committed
    ]
    assert missing == [], (
        "strings in the code with no Arabic translation; run `make messages-extract` "
        "and translate them in tawasul/locale/ar/LC_MESSAGES/django.po:\n" + "\n".join(missing)
    )
    plural_changed = [
        describe(entry)
        for entry in fresh
        if entry.key in committed and committed[entry.key].msgid_plural != entry.msgid_plural
    ]
    assert plural_changed == [], "plural forms changed in the code:\n" + "\n".join(plural_changed)


# --- Arabic as a person sees it ---------------------------------------------------------------


def test_an_identity_error_reads_in_arabic():
    with translation.override("ar"), pytest.raises(InvalidInput) as error:
        national_id_clean("1000000000")

    with translation.override("ar"):
        arabic = str(error.value)
    with translation.override("en"):
        english = str(error.value)
    assert arabic != english
    assert ARABIC_LETTER.search(arabic)
    assert english == "This national ID or iqama number is not valid; please check the digits."


def test_the_portal_home_page_has_an_arabic_main_heading(client, db):
    page = client.get("/").content.decode()

    heading = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.DOTALL)
    assert heading, "no main heading"
    text = heading.group(1).strip()
    assert ARABIC_LETTER.search(text)
    assert text != "Tell us, and we will follow it up"


@pytest.mark.parametrize("notification", NOTIFICATIONS)
def test_an_arabic_sms_fits_one_part_before_its_link(notification):
    # Given a tracking number and a link (the link alone may need a second part)
    link = "https://tawasul.example/"
    context = {
        "tracking": "482-9310-5726",
        "portal_url": link,
        "survey_url": link,
        "kind": "",
        "code": "493817",
    }

    # When the SMS is rendered in Arabic
    with translation.override("ar"):
        text = " ".join(render_to_string(f"notifications/{notification}_sms.txt", context).split())

    # Then it is Arabic, carries what it is for, and its words fit one part
    assert ARABIC_LETTER.search(text)
    if notification == "sign_in_code":
        assert "493817" in text
        assert link not in text  # a code message carries no link: nothing to click and phish
    else:
        assert "482-9310-5726" in text
        assert link in text
    assert len(text.replace(link, "")) <= ARABIC_SMS_PART, text

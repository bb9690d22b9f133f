"""The French translation: a complete catalogue, compiled, and actually served.

Comptoir ships French to French shops, so a string left in English, a fuzzy
entry gettext silently ignores, or a ``.mo`` compiled from an older ``.po`` is a
visible bug. These tests read the catalogue with a small parser (no polib) and
render the console, the widget texts and the demo shop in both languages.
"""

import gettext
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import ingest_chat

LOCALE_DIR = Path(settings.LOCALE_PATHS[0]) / "fr" / "LC_MESSAGES"
PO_PATH = LOCALE_DIR / "django.po"
MO_PATH = LOCALE_DIR / "django.mo"

FRENCH = {"HTTP_ACCEPT_LANGUAGE": "fr"}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")


@dataclass
class PoEntry:
    """One catalogue entry: its flags, msgid, optional plural msgid and msgstr forms."""

    flags: set[str] = field(default_factory=set)
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    obsolete: bool = False


_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}


def _po_string(quoted: str) -> str:
    """The text of one quoted .po string, with its C escapes resolved."""
    body = quoted.strip()
    assert body.startswith('"') and body.endswith('"'), quoted
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body[1:-1])


def parse_po(path: Path) -> list[PoEntry]:
    """Entries of a .po file, the header (empty msgid) included."""
    entries: list[PoEntry] = []
    entry = PoEntry()
    target: tuple[str, int] | None = None

    def flush() -> None:
        nonlocal entry, target
        if target is not None:
            entries.append(entry)
        entry, target = PoEntry(), None

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            flush()
            continue
        if line.startswith("#~"):
            entry.obsolete = True
            continue
        if line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        keyword = re.match(r"(msgid_plural|msgid|msgstr\[(\d+)\]|msgstr)\s+(\".*\")$", line)
        if keyword:
            if keyword.group(1) == "msgid" and target is not None and target[0] != "msgid":
                flush()
            name, index, text = keyword.group(1), keyword.group(2), _po_string(keyword.group(3))
            if name == "msgid":
                entry.msgid, target = text, ("msgid", 0)
            elif name == "msgid_plural":
                entry.msgid_plural, target = text, ("msgid_plural", 0)
            else:
                form = int(index) if index is not None else 0
                entry.msgstr[form], target = text, ("msgstr", form)
            continue
        assert target is not None and line.startswith('"'), f"unexpected line: {raw!r}"
        kind, form = target
        text = _po_string(line)
        if kind == "msgid":
            entry.msgid += text
        elif kind == "msgid_plural":
            entry.msgid_plural = (entry.msgid_plural or "") + text
        else:
            entry.msgstr[form] += text
    flush()
    return entries


def po_messages(path: Path) -> dict[Any, str]:
    """What msgfmt would compile: translated, non-fuzzy entries keyed like GNUTranslations."""
    messages: dict[Any, str] = {}
    for entry in parse_po(path):
        if entry.obsolete or "fuzzy" in entry.flags or entry.msgid == "":
            continue
        if entry.msgid_plural is None:
            if entry.msgstr.get(0):
                messages[entry.msgid] = entry.msgstr[0]
        elif all(entry.msgstr.values()):
            for form, text in entry.msgstr.items():
                messages[(entry.msgid, form)] = text
    return messages


def mo_messages(path: Path) -> dict[Any, str]:
    """The compiled catalogue as Python's gettext reads it, header left out."""
    with path.open("rb") as handle:
        catalog = dict(gettext.GNUTranslations(handle)._catalog)
    catalog.pop("", None)
    return catalog


def catalogue_entries() -> list[PoEntry]:
    return [e for e in parse_po(PO_PATH) if e.msgid and not e.obsolete]


# --- the catalogue -----------------------------------------------------------------------


def test_po_header_declares_french_utf8_and_french_plurals():
    header = next(e for e in parse_po(PO_PATH) if e.msgid == "")
    text = header.msgstr[0]
    assert "fuzzy" not in header.flags
    assert "Language: fr\n" in text
    assert "charset=UTF-8" in text
    assert "Plural-Forms: nplurals=2; plural=(n > 1);" in text


def test_every_message_is_translated_and_none_is_fuzzy():
    entries = catalogue_entries()
    assert len(entries) > 100, "the catalogue looks truncated"
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    untranslated = [e.msgid for e in entries if not all(e.msgstr.values())]
    plurals_incomplete = [
        e.msgid for e in entries if e.msgid_plural is not None and sorted(e.msgstr) != [0, 1]
    ]
    assert fuzzy == []
    assert untranslated == []
    assert plurals_incomplete == []


def test_translations_keep_every_placeholder_and_link():
    for entry in catalogue_entries():
        expected = sorted(PLACEHOLDER.findall(entry.msgid_plural or entry.msgid))
        for text in entry.msgstr.values():
            assert sorted(PLACEHOLDER.findall(text)) == expected, entry.msgid
            assert text.count("<a ") == entry.msgid.count("<a "), entry.msgid
            assert re.findall(r'href="[^"]*"', text) == re.findall(r'href="[^"]*"', entry.msgid)


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext (xgettext)")
def test_catalogue_holds_every_string_marked_in_the_code(tmp_path):
    """A string marked for translation but missing from the .po would stay English.

    ``makemessages`` runs on a copy of the package into a scratch locale folder,
    so the committed catalogue is never touched; only the msgids are compared.
    """
    source = tmp_path / "comptoir"
    shutil.copytree(
        settings.BASE_DIR, source, ignore=shutil.ignore_patterns("locale", "__pycache__")
    )
    scratch_locale = tmp_path / "locale"
    (tmp_path / "i18n_scratch_settings.py").write_text(
        f"from comptoir.settings import *  # noqa: F403\nLOCALE_PATHS = [{str(scratch_locale)!r}]\n"
    )
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(Path(settings.BASE_DIR).parent)]),
        "DJANGO_SETTINGS_MODULE": "i18n_scratch_settings",
    }
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "fr", "--no-obsolete"],
        cwd=source,
        env=environment,
        check=True,
        capture_output=True,
    )
    fresh = parse_po(scratch_locale / "fr" / "LC_MESSAGES" / "django.po")
    wanted = {(e.msgid, e.msgid_plural) for e in fresh if e.msgid}
    present = {(e.msgid, e.msgid_plural) for e in catalogue_entries()}
    assert wanted - present == set(), "run `comptoir makemessages -l fr` and translate"


def test_compiled_mo_matches_the_po():
    """The committed .mo is what the .po compiles to, so no machine needs gettext tools."""
    assert MO_PATH.exists(), "run `comptoir compilemessages` and commit the .mo"
    assert mo_messages(MO_PATH) == po_messages(PO_PATH)


# --- what people see ---------------------------------------------------------------------


def test_console_login_page_speaks_french(client, db):
    html = client.get(reverse("console:login"), **FRENCH).content.decode()
    assert '<html lang="fr">' in html
    assert "Connexion à la console agent" in html
    assert "Mot de passe" in html
    assert "Se connecter" in html
    assert "Password" not in html


def test_console_login_page_stays_english_without_accept_language(client, db):
    html = client.get(reverse("console:login")).content.decode()
    assert '<html lang="en">' in html
    assert "Sign in to the agent console" in html


def test_inbox_speaks_french(agent_client, brand):
    ingest_chat(brand, "Bonjour, ma commande n'est pas arrivée")
    html = agent_client.get(reverse("console:inbox"), **FRENCH).content.decode()
    assert '<html lang="fr">' in html
    for text in ("Boîte de réception", "Sans agent", "À moi", "Ouvertes", "Déconnexion"):
        assert text in html, text
    assert "Chat web" in html
    assert "All open" not in html


def test_conversation_page_speaks_french(agent_client, brand):
    conversation = ingest_chat(brand, "Bonjour").conversation
    url = reverse("console:conversation", args=[conversation.pk])
    html = agent_client.get(url, **FRENCH).content.decode()
    for text in ("Résoudre", "Note interne", "Envoyer la réponse", "Historique", "Ouverte"):
        assert text in html, text


def _flatten(texts: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat = {}
    for key, value in texts.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _widget_texts(client, brand, language: str) -> dict[str, str]:
    response = client.post(
        reverse("widget:session"),
        {"brand": brand.slug, "language": language},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["language"] == language
    return _flatten(response.json()["texts"])


def test_widget_texts_exist_in_french_and_english(client, brand):
    french = _widget_texts(client, brand, "fr")
    english = _widget_texts(client, brand, "en")
    assert french.keys() == english.keys()
    assert all(isinstance(v, str) and v.strip() for v in french.values()), french
    assert all(isinstance(v, str) and v.strip() for v in english.values()), english
    assert french["send"] == "Envoyer"
    assert french["greeting"] == "Bonjour\u00a0! Comment pouvons-nous vous aider\u00a0?"
    assert english["send"] == "Send"
    assert english["greeting"] == "Hello! How can we help you?"
    # Only proper names may read the same in both languages.
    same = {key for key in french if french[key] == english[key]}
    assert same <= {"email_label", "messages_label"}, same


def test_demo_shop_speaks_french(client, db):
    html = client.get(reverse("demo:shop"), **FRENCH).content.decode()
    assert '<html lang="fr">' in html
    for text in ("Nos coups de cœur", "Ajouter au panier", "Nappe en lin lavé", "89,00\u00a0€"):
        assert text in html, text
    assert 'data-lang="fr"' in html
    assert "Add to basket" not in html


def test_demo_shop_stays_english_without_accept_language(client, db):
    html = client.get(reverse("demo:shop")).content.decode()
    assert '<html lang="en">' in html
    assert "Add to basket" in html


@pytest.mark.parametrize("language", ["fr", "en"])
def test_language_switch_is_remembered(client, db, language):
    response = client.post(reverse("set_language"), {"language": language, "next": "/demo/"})
    assert response.status_code == 302
    html = client.get(reverse("demo:shop")).content.decode()
    assert f'<html lang="{language}">' in html

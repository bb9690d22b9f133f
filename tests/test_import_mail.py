"""``comptoir import-mail``: .eml files, directories, mbox and Maildir, one line per message."""

import logging
import mailbox
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from comptoir.conversations.models import Conversation, Message
from comptoir.tenancy.models import Brand
from comptoir.touchpoints.email.models import QuarantinedMail
from tests.test_email_inbound import CORPUS, mail, refusal_records, senderless

LINE = re.compile(r"^(ingested|duplicate|quarantined|ignored|bounce) (\S+) (.+)$")


def run(*args: str) -> list[str]:
    out = StringIO()
    call_command("import-mail", *args, stdout=out, stderr=StringIO())
    return out.getvalue().splitlines()


def test_corpus_directory_one_line_per_message(brand):
    lines = run(str(CORPUS), "--brand", brand.slug)
    files = sorted(CORPUS.glob("*.eml"))
    assert len(lines) == len(files)
    by_file = {}
    for line in lines:
        match = LINE.match(line)
        assert match, line
        by_file[Path(match.group(2)).name] = (match.group(1), match.group(3))
    assert by_file["plain_utf8.eml"][0] == "ingested"
    assert re.fullmatch(r"conversation #\d+", by_file["plain_utf8.eml"][1])
    assert by_file["out_of_office.eml"][0] == "ignored"
    # A bounce of no mail Comptoir sent (as any forged one) is dropped.
    assert by_file["dsn_bounce.eml"] == (
        "ignored",
        "(unverified bounce: references no mail this brand sent)",
    )
    assert by_file["headerless_binary.eml"] == (
        "quarantined",
        "(unparseable: no header and a binary body)",
    )
    assert by_file["missing_from.eml"] == ("quarantined", "(no sender address (From))")
    assert QuarantinedMail.objects.filter(brand=brand, source="import").count() == 3
    # Running it again changes nothing: every stored mail is a duplicate.
    again = run(str(CORPUS / "plain_utf8.eml"), "--brand", brand.slug)
    assert again[0].startswith("duplicate ")


def test_senderless_mail_is_one_quarantine_warning_without_traceback(brand, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "cron.eml"
    path.write_bytes(senderless("From: root@localhost\r\n"))
    [line] = run(str(path), "--brand", brand.slug)
    kept = QuarantinedMail.objects.get(brand=brand, source="import")
    assert line == f"quarantined {path} ({kept.reason})"
    assert kept.reason.startswith("no usable sender address (From)")
    loud, tracebacks = refusal_records(caplog)
    assert loud == [
        (logging.WARNING, f"mail quarantined (brand {brand.slug}, import): {kept.reason}")
    ]
    assert tracebacks == []


def test_mbox_and_maildir(tmp_path, brand):
    box_path = tmp_path / "archive.mbox"
    box = mailbox.mbox(box_path)
    box.add(mail("Première", message_id="mbox.1@example.com"))
    box.add(mail("Deuxième", sender="leo@example.com", message_id="mbox.2@example.com"))
    box.add(mail("Première", message_id="mbox.1@example.com"))
    box.flush()
    box.close()
    maildir = mailbox.Maildir(tmp_path / "Maildir")
    maildir.add(mail("Depuis le Maildir", sender="zoe@example.com", message_id="md.1@example.com"))
    maildir.close()

    lines = run(str(box_path), str(tmp_path / "Maildir"), "--brand", brand.slug)
    kinds = [line.split(" ", 1)[0] for line in lines]
    assert kinds == ["ingested", "ingested", "duplicate", "ingested"]
    assert lines[0].startswith(f"ingested {box_path}:1 conversation #")
    assert lines[2].startswith(f"duplicate {box_path}:3 conversation #")
    assert Message.objects.filter(external_id="md.1@example.com").exists()
    assert Conversation.objects.filter(brand=brand).count() == 3


def test_default_brand_is_the_demo_brand(db, tmp_path):
    demo = Brand.objects.create(slug="maison-demo", name="Maison Demo")
    (tmp_path / "one.eml").write_bytes(mail(message_id="default.1@example.com"))
    lines = run(str(tmp_path / "one.eml"))
    assert lines[0].startswith("ingested ")
    assert Message.objects.get(external_id="default.1@example.com").brand == demo


def test_cannot_run_without_brand_or_path(brand, tmp_path):
    with pytest.raises(CommandError, match="unknown brand"):
        run(str(CORPUS), "--brand", "no-such-brand")
    with pytest.raises(CommandError, match="not found"):
        run(str(tmp_path / "missing.mbox"), "--brand", brand.slug)
    assert not Message.objects.exists()

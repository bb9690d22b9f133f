"""The e-mail parsing layer against a hand-written corpus of ordinary and broken mail.

Each file in ``tests/fixtures/mail`` is one real-world situation; the tests say
what Comptoir must read out of it. Pure parsing needs no database; the
``to_inbound``/``ingest_message`` tests use the ``brand`` fixture.
"""

import hashlib
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from comptoir.conversations.ingest import ingest_message
from comptoir.touchpoints.email.loops import AutoSubmittedKind
from comptoir.touchpoints.email.parsing import UnparseableMail, parse_mail, to_inbound
from comptoir.touchpoints.email.quoting import fold_quoted_history

CORPUS = Path(__file__).parent / "fixtures" / "mail"


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def parse(name: str):
    return parse_mail(corpus(name))


# --- One test per corpus file ---------------------------------------------------------------


def test_plain_utf8():
    mail = parse("plain_utf8.eml")
    assert mail.message_id == "CAF=plain.001@mail.example.com"  # stored without <>
    assert mail.subject == "Where is my order?"
    assert mail.from_address == "anais.durand@example.com"
    assert mail.from_name == "Anaïs Durand"
    assert mail.to_addresses == ["support@maison.example"]
    assert mail.cc_addresses == ["colleague@example.com", "lea@example.org"]
    assert mail.date == datetime(2026, 3, 3, 9, 15, tzinfo=UTC)
    assert mail.text.startswith("Hello,\n\nMy order #1234")
    assert "ça presse 🙂" in mail.text
    assert mail.html == ""
    assert mail.attachments == []
    assert mail.auto_submitted.kind is AutoSubmittedKind.NONE
    assert not mail.auto_submitted.is_automatic


def test_latin1_body_and_encoded_word_subject_in_french():
    mail = parse("latin1_french.eml")
    assert mail.subject == "Problème de livraison à Nancy"
    assert mail.from_name == "François Léger"
    assert "Le colis n'est pas arrivé à Nancy. Pouvez-vous vérifier où il se trouve ?" in mail.text
    assert mail.text.endswith("François Léger")


def test_windows_1252_mislabelled_as_us_ascii():
    mail = parse("cp1252_labelled_ascii.eml")
    assert mail.text == "I was charged 30€ twice \u2013 the “premium” option I never chose."
    assert mail.subject == "Refund of 30€"  # raw 8-bit header bytes, no encoded word


def test_multipart_alternative_prefers_text_and_keeps_sanitised_html():
    mail = parse("alternative.eml")
    assert mail.text == "The plain version: my invoice is wrong, the total should be 42 €."
    assert "<b>HTML</b> version" in mail.html
    assert "<html>" not in mail.html and "<body>" not in mail.html


def test_html_only_is_sanitised_and_rendered_as_text():
    mail = parse("html_only_script.eml")
    for dangerous in ("<script", "alert(", "onerror", "onload", "javascript:", "<style", "color"):
        assert dangerous not in mail.html
    assert '<a href="https://track.example.com/t"' in mail.html
    assert "<strong>crushed</strong>" in mail.html
    assert "The box arrived crushed." in mail.text
    assert "my tracking page (https://track.example.com/t)" in mail.text
    assert "- Item one\n- Item two" in mail.text
    for hidden in ("Ignore me", "alert", "document.cookie", "color: red"):
        assert hidden not in mail.text


def test_inline_image_is_an_inline_attachment_with_its_content_id():
    mail = parse("inline_image.eml")
    assert mail.text == "The checkout shows this error: [image: screenshot]"
    assert 'src="cid:shot1@example.com"' in mail.html  # cid: survives sanitising
    [image] = mail.attachments
    assert image.inline is True
    assert image.content_id == "shot1@example.com"
    assert image.content_type == "image/png"
    assert image.content.startswith(b"\x89PNG")
    assert image.filename.endswith(".png")


def test_rfc2231_filename():
    mail = parse("rfc2231_filename.eml")
    [invoice] = mail.attachments
    assert invoice.filename == "facture n° 12.pdf"
    assert invoice.content_type == "application/pdf"
    assert invoice.content.startswith(b"%PDF-1.4")
    assert invoice.inline is False
    assert mail.text == "Voici la facture en pièce jointe."


def test_encoded_word_filename_and_iso_2022_jp_body():
    mail = parse("encoded_word_filename.eml")
    assert mail.subject == "請求書"
    assert mail.text == "よろしくお願いします"
    [sheet] = mail.attachments
    assert sheet.filename == "請求書_エラー.xlsx"
    assert sheet.content.startswith(b"PK")


def test_forwarded_message_nested_twice():
    mail = parse("forward_nested_twice.eml")
    assert mail.text.startswith("See the thread below, my husband wrote to you first.")
    assert mail.text.count("---------- Forwarded message ----------") == 2
    assert "Subject: Fwd: Delivery problem\n\nCan you forward this to them?" in mail.text
    assert "Subject: Delivery problem\n\nThe delivery driver left the parcel in the rain." in (
        mail.text
    )
    assert mail.forwarded_subjects == ["Fwd: Delivery problem"]
    [forwarded] = mail.attachments
    assert forwarded.filename == "Fwd: Delivery problem.eml"
    assert forwarded.content_type == "message/rfc822"
    # The kept .eml is itself a parseable mail, still holding the innermost forward.
    inner = parse_mail(forwarded.content)
    assert inner.message_id == "fwd-middle.009@example.com"
    assert "The delivery driver left the parcel in the rain." in inner.text
    assert [a.filename for a in inner.attachments] == ["Delivery problem.eml"]


def test_out_of_office_is_an_auto_reply_and_keeps_threading_headers():
    mail = parse("out_of_office.eml")
    assert mail.auto_submitted.kind is AutoSubmittedKind.AUTO_REPLY
    assert mail.auto_submitted.reason == "Auto-Submitted: auto-replied"
    assert mail.in_reply_to == "reply-1234@maison.example"
    assert mail.references == ["root-1234@maison.example", "reply-1234@maison.example"]


def test_precedence_bulk_is_automatic():
    mail = parse("precedence_bulk.eml")
    assert mail.auto_submitted.kind is AutoSubmittedKind.AUTO_REPLY
    assert mail.auto_submitted.reason == "Precedence: bulk"


def test_delivery_status_report_is_a_bounce_with_the_failed_recipient():
    mail = parse("dsn_bounce.eml")
    assert mail.auto_submitted.kind is AutoSubmittedKind.BOUNCE
    assert "delivery-status" in mail.auto_submitted.reason
    # The delayed recipient is not a failure; addresses are case-folded.
    assert mail.auto_submitted.failed_recipients == ("ghost@customer.example",)
    # The returned headers say which mail bounced (checked against sent mail on receipt).
    assert mail.auto_submitted.original_message_ids == ("reply-1234@maison.example",)
    assert "could not\nbe delivered" in mail.text
    assert "Reporting-MTA" not in mail.text


def test_missing_from_still_parses_without_identity(brand):
    raw = corpus("missing_from.eml")
    mail = parse_mail(raw)
    assert mail.from_address == ""
    assert mail.date is None
    assert mail.message_id == ""
    assert mail.text == "Somebody forgot the From header."
    inbound = to_inbound(mail, brand)
    assert inbound.identities == []
    assert inbound.external_id == "sha256:" + hashlib.sha256(raw).hexdigest()


def test_missing_boundary_is_recovered_from_the_body():
    mail = parse("missing_boundary.eml")
    assert mail.text == "The client forgot the boundary parameter."
    assert "NoBoundaryInMultipartDefect" in mail.defects


def test_truncated_multipart_keeps_what_arrived():
    mail = parse("truncated_multipart.eml")
    assert mail.text == "The first part made it through."
    [contract] = mail.attachments
    assert contract.filename == "contract.pdf"
    assert contract.content.startswith(b"%PDF-1.4")
    assert "CloseBoundaryNotFoundDefect" in mail.defects


def test_a_200_kb_single_line():
    mail = parse("long_line.eml")
    assert mail.text == "0123456789" * 20_000


def test_a_header_of_5000_encoded_words_is_decoded_and_capped():
    mail = parse("huge_header.eml")
    assert mail.subject.startswith("cafécafécafé")
    assert len(mail.subject) <= 1_000 + len("\n[…]")
    assert mail.text == "Body after a monstrous subject."
    assert mail.date is not None


def test_garbage_date_becomes_none():
    mail = parse("garbage_date.eml")
    assert mail.date is None
    assert mail.text == "The date header is nonsense."


def test_unknown_charset_and_8bit_body_without_charset():
    mail = parse("unknown_charset_8bit.eml")
    assert mail.subject == "Caractères inconnus"  # raw UTF-8 in a header
    assert "Déjà payé, merci." in mail.text  # unknown label: UTF-8 guessed
    assert "Second part sans charset : été à Noël." in mail.text  # no label: Latin-1 bytes


def test_broken_quoted_printable_and_base64_do_not_raise():
    mail = parse("bad_transfer_encoding.eml")
    assert mail.text == "Quoted-printable with errors: café =ZZ é and a soft break here."
    [data] = mail.attachments
    assert data.filename == "data.bin"
    assert data.content.startswith(b"Hello ")


def test_french_reply_headers_and_fold():
    mail = parse("reply_quoted_fr.eml")
    assert mail.in_reply_to == "reply-1234@maison.example"
    assert mail.references == ["root-1234@maison.example", "reply-1234@maison.example"]
    new, history = fold_quoted_history(mail.text)
    assert new == "Merci, c'est bien reçu."
    assert history.startswith("Le ven. 20 mars 2026 à 18:00")
    assert history.endswith("Sophie Martin")


def test_no_message_id_uses_a_stable_hash(brand):
    raw = corpus("no_message_id.eml")
    first, second = parse_mail(raw), parse_mail(raw)
    assert first.external_id == second.external_id == ("sha256:" + hashlib.sha256(raw).hexdigest())
    assert first.from_name == "Tom O'Brien"
    # "-0000" means "zone unknown": kept as UTC rather than a naive datetime.
    assert first.date == datetime(2026, 3, 22, 11, 0, tzinfo=UTC)


def test_headerless_binary_is_unparseable():
    with pytest.raises(UnparseableMail) as raised:
        parse("headerless_binary.eml")
    assert raised.value.reason == "no header and a binary body"


# --- Edge cases without a corpus file -------------------------------------------------------


@pytest.mark.parametrize("raw", [b"", b"   \r\n\r\n  "])
def test_empty_input_is_unparseable(raw):
    with pytest.raises(UnparseableMail, match="empty message"):
        parse_mail(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b"Just some text without any header\r\n",
        b"From: \r\nSubject: =?utf-8?q?unterminated\r\n\r\nbody",
        b"From: a@b.c\r\nContent-Type: text/plain; charset=base64\r\n\r\ncaf\xc3\xa9",
        b'From: a@b.c\r\nContent-Type: text/plain; charset="\r\n\r\nbody',
        b"From: a@b.c\r\nSubject: =?x-nope?b?Zm9v?= =?utf-8?b?!!!?=\r\n\r\nbody",
        b'From: a@b.c\r\nContent-Type: multipart/mixed; boundary="z"\r\n\r\n--z\r\n',
        b"From: a@b.c\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64"
        b"\r\n\r\nU3ViamVjdDogaGkKCmlubmVy\r\n",
        b'From: "unterminated <a@b.c>\r\nTo: ,,,;;;<>\r\nDate: 0\r\n\r\nx',
        b"Content-Type: text/html\r\n\r\n<p><b><i>never closed",
        b"From: a@b.c\r\nContent-Type: image/png\r\nContent-Disposition: attachment;"
        b" filename*=bogus''%ZZ%\r\nContent-Transfer-Encoding: base64\r\n\r\n@@@",
    ],
)
def test_odd_inputs_parse_or_raise_unparseable_only(raw):
    try:
        mail = parse_mail(raw)
    except UnparseableMail:
        return
    assert isinstance(mail.text, str)
    assert "\x00" not in mail.text


def test_non_text_charset_label_falls_back_to_utf8():
    mail = parse_mail(
        b"From: a@b.c\r\nContent-Type: text/plain; charset=rot13\r\n\r\ncaf\xc3\xa9\r\n"
    )
    assert mail.text == "café"


def test_base64_forward_is_still_read():
    mail = parse_mail(
        b"From: a@b.c\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64"
        b"\r\n\r\nU3ViamVjdDogaGkKCmlubmVy\r\n"
    )
    assert "Subject: hi\n\ninner" in mail.text
    assert [a.filename for a in mail.attachments] == ["hi.eml"]


def test_thousands_of_parts_are_read_with_the_lenient_parser_and_capped():
    part = (
        b"--z\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Disposition: attachment; filename*=UTF-8''%C3%A9t%C3%A9.bin\r\n\r\nabc\r\n"
    )
    raw = (
        b"From: a@b.c\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n"
        b"--z\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee the files.\r\n"
        + part * 1500
        + b"--z--\r\n"
    )
    mail = parse_mail(raw)
    assert mail.text == "See the files."
    assert len(mail.attachments) == 200
    assert mail.attachments[0].filename == "été.bin"


def test_overlong_message_id_gets_a_hashed_external_id():
    long_id = "x" * 400 + "@example.com"
    mail = parse_mail(f"From: a@b.c\r\nMessage-ID: <{long_id}>\r\n\r\nhello".encode())
    assert mail.message_id == long_id
    assert mail.external_id.startswith("mid-sha256:")
    assert len(mail.external_id) <= 255


def test_x_autoreply_and_x_failed_recipients():
    auto = parse_mail(b"From: a@b.c\r\nX-Autoreply: yes\r\n\r\naway")
    assert auto.auto_submitted.kind is AutoSubmittedKind.AUTO_REPLY
    bounce = parse_mail(
        b"From: MAILER-DAEMON@mx.example\r\nX-Failed-Recipients: Gone@Example.org\r\n\r\nfailed"
    )
    assert bounce.auto_submitted.kind is AutoSubmittedKind.BOUNCE
    assert bounce.auto_submitted.failed_recipients == ("gone@example.org",)
    human = parse_mail(b"From: a@b.c\r\nAuto-Submitted: no\r\n\r\nhello")
    assert human.auto_submitted.kind is AutoSubmittedKind.NONE


def test_a_bounce_reports_the_message_ids_of_the_mail_it_returns():
    returned = (
        b"From: MAILER-DAEMON@mx.example\r\nX-Failed-Recipients: gone@example.org\r\n"
        b"X-Original-Message-ID: <header.1@maison.example>\r\n"
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\n"
        b"------ This is a copy of the message, including all the headers. ------\r\n"
        b"Message-ID: <inline.2@maison.example>\r\nSubject: Re: ...\r\n\r\n"
        b"--b\r\nContent-Type: message/rfc822\r\n\r\n"
        b"From: support@maison.example\r\nMessage-ID: <attached.3@maison.example>\r\n\r\n"
        b"Bonjour\r\n--b--\r\n"
    )
    ids = parse_mail(returned).auto_submitted.original_message_ids
    assert ids == (
        "header.1@maison.example",
        "inline.2@maison.example",
        "attached.3@maison.example",
    )
    # Not a bounce: nothing is looked for (a customer quoting headers claims nothing).
    quoting = parse_mail(b"From: a@b.c\r\n\r\nMessage-ID: <inline.2@maison.example>\r\n")
    assert quoting.auto_submitted.original_message_ids == ()


# --- to_inbound and the real ingest pipeline ------------------------------------------------


def test_to_inbound_shapes_an_email_inbound_message(brand):
    mail = parse("plain_utf8.eml")
    inbound = to_inbound(mail, brand)
    assert inbound.brand == brand
    assert inbound.channel == "email"
    assert inbound.external_id == "CAF=plain.001@mail.example.com"
    assert [(c.kind, c.value, c.verified) for c in inbound.identities] == [
        ("email", "anais.durand@example.com", True)
    ]
    assert inbound.display_name == "Anaïs Durand"
    assert inbound.text == mail.text
    assert inbound.received_at == datetime(2026, 3, 3, 10, 15, tzinfo=timezone(timedelta(hours=1)))


def test_to_inbound_carries_attachments(brand):
    inbound = to_inbound(parse("rfc2231_filename.eml"), brand)
    [attachment] = inbound.attachments
    assert attachment.filename == "facture n° 12.pdf"
    assert attachment.content_type == "application/pdf"


def test_parsed_mail_ingests_once(brand):
    inbound = to_inbound(parse("latin1_french.eml"), brand)
    first = ingest_message(inbound)
    again = ingest_message(to_inbound(parse("latin1_french.eml"), brand))
    assert first.created is True
    assert again.created is False
    assert again.message.pk == first.message.pk
    assert first.message.channel == "email"
    assert "arrivé à Nancy" in first.message.text


# --- fold_quoted_history --------------------------------------------------------------------


def test_fold_english_gmail_reply():
    text = (
        "Thanks, that works.\n\n"
        "On Tue, 3 Mar 2026 at 10:00, Maison Support <support@maison.example> wrote:\n"
        "> Could you try again?\n"
        "> Camille"
    )
    new, history = fold_quoted_history(text)
    assert new == "Thanks, that works."
    assert history.startswith("On Tue, 3 Mar 2026")
    assert text.replace("\n", "").replace(" ", "") == (new + history).replace("\n", "").replace(
        " ", ""
    )


def test_fold_english_wrapped_wrote_line():
    text = (
        "Still broken.\n\n"
        "On Tue, 3 Mar 2026 at 10:00, Someone With A Long Name <long.name@example.com>\n"
        "wrote:\n> earlier"
    )
    new, history = fold_quoted_history(text)
    assert new == "Still broken."
    assert history.startswith("On Tue")


def test_fold_french_reply_and_signature():
    text = (
        "Bonjour, toujours rien reçu.\n\n"
        "Le mar. 3 mars 2026 à 10:00, Maison <support@maison.example> a écrit :\n"
        "> Votre colis est en route."
    )
    assert fold_quoted_history(text) == (
        "Bonjour, toujours rien reçu.",
        "Le mar. 3 mars 2026 à 10:00, Maison <support@maison.example> a écrit :\n"
        "> Votre colis est en route.",
    )
    signed = "Merci !\n-- \nJean Dupont\n06 12 34 56 78"
    assert fold_quoted_history(signed) == ("Merci !", "-- \nJean Dupont\n06 12 34 56 78")


def test_fold_outlook_original_message_and_french_header_block():
    english = "See attached.\n\n-----Original Message-----\nFrom: Support\nSent: Monday\nhi"
    new, history = fold_quoted_history(english)
    assert new == "See attached."
    assert history.startswith("-----Original Message-----")

    french = (
        "Voir la pièce jointe.\n\n"
        "De : Maison Support <support@maison.example>\n"
        "Envoyé : lundi 2 mars 2026 09:00\n"
        "À : Jean <jean@exemple.fr>\n"
        "Objet : Votre commande\n\n"
        "Bonjour Jean"
    )
    new, history = fold_quoted_history(french)
    assert new == "Voir la pièce jointe."
    assert history.startswith("De : Maison Support")


def test_fold_keeps_interleaved_answers_visible():
    text = "> Is it the blue one?\nYes, the blue one.\n> Size?\nM, please."
    assert fold_quoted_history(text) == (text, "")


def test_fold_trailing_quotes_only_are_history():
    text = "Yes please.\n\n> Do you want a refund?\n> Camille"
    assert fold_quoted_history(text) == ("Yes please.", "> Do you want a refund?\n> Camille")


def test_fold_never_hides_everything():
    only_quotes = "> forwarded words\n> more words"
    assert fold_quoted_history(only_quotes) == (only_quotes, "")
    assert fold_quoted_history("Plain message, no history.") == ("Plain message, no history.", "")
    # "On … wrote" inside a sentence is not a header line.
    sentence = "On Monday my colleague wrote: please call me back."
    assert fold_quoted_history(sentence) == (sentence, "")


def _interleaved(pairs: int) -> str:
    # Every quoted line used to look ahead over a copy of the rest of the mail.
    return "Hello\n" + "\n".join(["> q", "a"] * pairs)


def _long_quote(lines: int) -> str:
    # Every quoted line used to scan to the end.
    return "Hello\n" + ">\n" * lines + "new text"


def _fold_cpu_seconds(text: str) -> float:
    started = time.process_time()
    new, history = fold_quoted_history(text)
    assert new + history  # never hides everything
    return time.process_time() - started


@pytest.mark.parametrize("mail_of", [_interleaved, _long_quote])
def test_fold_is_linear_in_the_number_of_lines(mail_of):
    """The fold runs on every console render of a mail: quadratic time is a denial of service.

    Measured as growth, in this process's CPU time: 8 times the lines cost about 8
    times as much when linear, 64 times when quadratic. A wall-clock limit failed on
    a busy 2-core machine (3.2 s for 1 s), and a slow one is not a regression.
    """
    small = _fold_cpu_seconds(mail_of(7_500))
    large = _fold_cpu_seconds(mail_of(60_000))
    assert large < 24 * small

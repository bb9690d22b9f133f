import pytest

from comptoir.conversations.inbound import IdentityClaim
from comptoir.conversations.ingest import ingest_message
from comptoir.customers.identities import InvalidIdentity, normalise_identity
from comptoir.customers.models import Customer, IdentityKind
from tests.factories import chat_message


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("06.12.34.56.78", "FR", "+33612345678"),
        ("+33 6 12 34 56 78", "US", "+33612345678"),
        ("0033612345678", "FR", "+33612345678"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("(212) 555-0100", "US", "+12125550100"),
    ],
)
def test_phones_become_e164_in_the_brands_region(raw, region, expected):
    assert normalise_identity(IdentityKind.PHONE, raw, region=region) == expected


@pytest.mark.parametrize("raw", ["12", "not a phone", "+33 1", "06 12"])
def test_impossible_phones_are_refused(raw):
    with pytest.raises(InvalidIdentity):
        normalise_identity(IdentityKind.PHONE, raw, region="FR")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Marie.Dupont@Exemple.FR", "marie.dupont@exemple.fr"),
        ("  lea@exemple.fr ", "lea@exemple.fr"),
        ("jose@bücher.de", "jose@xn--bcher-kva.de"),
    ],
)
def test_emails_are_case_folded_with_an_idna_domain(raw, expected):
    assert normalise_identity(IdentityKind.EMAIL, raw) == expected


CARD = "4111 1111 1111 1111"  # a test Visa number (passes the Luhn check)


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        (IdentityKind.EMAIL, f"card {CARD}"),
        (IdentityKind.PHONE, CARD),
        (IdentityKind.CUSTOMER_NUMBER, f"{CARD}!"),
        (IdentityKind.CHAT_VISITOR, CARD),
        (IdentityKind.WHATSAPP, f"{CARD} x"),
    ],
)
def test_refusals_never_quote_a_card_number(kind, raw):
    """The message reaches logs and 400 answers: the value is quoted masked."""
    with pytest.raises(InvalidIdentity) as refused:
        normalise_identity(kind, raw, region="FR")
    assert "1111 1111 1111" not in str(refused.value)
    assert "4111 11** **** 1111" in str(refused.value)


def test_refusals_quote_a_long_value_cut_short():
    with pytest.raises(InvalidIdentity) as refused:
        normalise_identity(IdentityKind.EMAIL, "x" * 100_000)
    assert len(str(refused.value)) < 150


def test_the_same_phone_written_two_ways_is_one_customer(brand):
    first = chat_message(
        brand, "par chat", extra_identities=[IdentityClaim("phone", "06 12 34 56 78")]
    )
    ingest_message(first)
    second = chat_message(brand, "autre navigateur")
    second.identities = [IdentityClaim(IdentityKind.PHONE, "+33612345678")]
    ingest_message(second)
    assert Customer.objects.count() == 1
    assert Customer.objects.get().identities.filter(kind="phone").get().value == "+33612345678"

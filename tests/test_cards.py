import pytest

from comptoir.privacy.cards import luhn_valid, mask_card_numbers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4111111111111111", "411111******1111"),
        ("my card 4111 1111 1111 1111 exp 12/27", "my card 4111 11** **** 1111 exp 12/27"),
        ("5500-0000-0000-0004", "5500-00**-****-0004"),
        ("amex 340000000000009.", "amex 340000*****0009."),
        ("4111111111111111 1", "411111******1111 1"),
        ("two: 4111111111111111 5500000000000004", "two: 411111******1111 550000******0004"),
    ],
)
def test_card_numbers_keep_only_first_six_and_last_four(text, expected):
    assert mask_card_numbers(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "call me on +33 6 12 34 56 78",
        "+4111111111111111",
        "see https://shop.example/orders/4111111111111111?x=1",
        "order number 123456789012",  # fails Luhn / no card prefix
        "4111111111111112",  # Luhn fails
        "reference 9111111111111111",  # no issuer uses 9
        "only 411111111111",  # too short to be a Visa with this Luhn
    ],
)
def test_phones_urls_and_non_cards_are_left_alone(text):
    assert mask_card_numbers(text) == text


def test_luhn():
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")

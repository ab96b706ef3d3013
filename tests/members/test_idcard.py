from datetime import date

import pytest

from members.idcard import InvalidIdNumber, check_digit, mask_id_number, parse_id_number


def make_id(first17: str) -> str:
    return first17 + check_digit(first17)


def test_valid_number_is_decoded():
    number = make_id("11010519491231002")
    parsed = parse_id_number(number, today=date(2026, 1, 1))
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.region_code == "110105"
    assert parsed.province == "北京"
    assert parsed.gender == "female"  # 17th digit 2 is even


def test_known_published_example():
    # GB 11643 example number
    assert parse_id_number("11010519491231002X").number == "11010519491231002X"


def test_x_check_digit_accepted_in_lower_case():
    first17 = next(
        f"44030119900115{n:03d}" for n in range(1000) if check_digit(f"44030119900115{n:03d}") == "X"
    )
    parsed = parse_id_number(first17.lower() + "x")
    assert parsed.number.endswith("X")


def test_bad_checksum():
    number = make_id("44030119900101123")
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    with pytest.raises(InvalidIdNumber) as exc:
        parse_id_number(wrong)
    assert exc.value.reason == "checksum"


@pytest.mark.parametrize("first17", ["44030119900230123", "44030119901301123", "44030118991231123"])
def test_bad_birth_date(first17):
    with pytest.raises(InvalidIdNumber) as exc:
        parse_id_number(make_id(first17))
    assert exc.value.reason == "date"


def test_future_birth_date():
    with pytest.raises(InvalidIdNumber) as exc:
        parse_id_number(make_id("44030120300101123"), today=date(2026, 1, 1))
    assert exc.value.reason == "date"


@pytest.mark.parametrize("region", ["99", "00", "20", "72"])
def test_bad_region_code(region):
    with pytest.raises(InvalidIdNumber) as exc:
        parse_id_number(make_id(region + "030119900101123"))
    assert exc.value.reason == "region"


@pytest.mark.parametrize(
    "raw", ["", "123", "4403011990010112345", "44030119900101123Y", "4403011990010112X3"]
)
def test_bad_format(raw):
    with pytest.raises(InvalidIdNumber) as exc:
        parse_id_number(raw)
    assert exc.value.reason == "format"


def test_masking():
    assert mask_id_number("110105194912310021") == "110***********0021"

"""Identity data: GB 11643 ID numbers, mainland mobile numbers, names and surnames."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from linli.core.validators import (
    id_birth_date, id_check_digit, id_gender, normalize_id_number, normalize_name, normalize_phone,
    surname_of, validate_id_number, validate_phone,
)

from factories import make_id_number

TODAY = dt.date(2026, 6, 1)


def _code(exc_info) -> str:
    return exc_info.value.error_list[0].code


# The sample number printed in GB 11643-1999 and its check digit X.
SAMPLE = "11010519491231002X"


@pytest.mark.parametrize("first17, check", [
    ("11010519491231002", "X"),
    ("44052418800101001", "4"),
    ("51010619800101001", id_check_digit("51010619800101001")),
])
def test_check_digit_follows_iso_7064_mod_11_2(first17, check):
    assert id_check_digit(first17) == check


@pytest.mark.parametrize("raw", [
    SAMPLE,
    SAMPLE.lower(),                 # a lower-case x
    " 110105 19491231 002X ",      # spaces, as people copy it from a card
    "１１０１０５１９４９１２３１００２Ｘ",  # full-width, as Chinese input methods type it
])
def test_valid_id_numbers_are_normalised(raw):
    assert validate_id_number(raw, today=TODAY) == SAMPLE


@pytest.mark.parametrize("birth, serial", [
    (dt.date(1900, 1, 1), 1), (dt.date(1956, 2, 29), 7), (dt.date(2000, 12, 31), 998), (dt.date(2026, 6, 1), 5),
])
def test_generated_numbers_validate(birth, serial):
    number = make_id_number(birth, serial)
    assert validate_id_number(number, today=TODAY) == number
    assert id_birth_date(number) == birth


@pytest.mark.parametrize("raw, code", [
    ("", "id_length"),
    ("1101051949123100", "id_length"),
    ("11010519491231002X1", "id_length"),
    ("01010519491231002X", "id_format"),       # no area code starts with 0
    ("1101051949123100XX", "id_format"),       # X only as the check character
    ("11010519491231A02X", "id_format"),
    ("1١010519491231002X", "id_format"),       # an Arabic-Indic digit: never another blind index
    ("110105194902300021", "id_birth"),        # 30 February
    ("110105189912310021", "id_birth"),        # before 1900
    (make_id_number(dt.date(2026, 6, 2), 1), "id_birth"),  # born tomorrow
    ("110105194912310021", "id_check"),
    ("110105194912310020", "id_check"),
])
def test_invalid_id_numbers_say_what_is_wrong(raw, code):
    with pytest.raises(ValidationError) as exc_info:
        validate_id_number(raw, today=TODAY)
    assert _code(exc_info) == code


def test_id_number_today_defaults_to_the_real_date():
    assert validate_id_number(SAMPLE) == SAMPLE


@pytest.mark.parametrize("number, gender", [
    (SAMPLE, "F"),                                  # 17th digit 2: even
    (make_id_number(dt.date(1980, 1, 1), 1), "M"),  # serial 001: odd
    (make_id_number(dt.date(1980, 1, 1), 2), "F"),
])
def test_gender_comes_from_the_17th_digit(number, gender):
    assert id_gender(number) == gender


def test_birth_date_of_an_impossible_number_is_none():
    assert id_birth_date("110105194902300021") is None
    assert normalize_id_number(None) == ""


@pytest.mark.parametrize("raw", [
    "13900000001", "139 0000 0001", "139-0000-0001", "(139)00000001", "+8613900000001", "+86 139 0000 0001",
    "008613900000001", " 13900000001 ", "１３９００００００01",
])
def test_valid_mobile_numbers_are_normalised(raw):
    assert validate_phone(raw) == "13900000001"


@pytest.mark.parametrize("raw", [
    "", "1390000000", "139000000012", "12900000001", "10900000001", "23900000001", "028-12345678",
    "1390000000a", "13٩00000001", "+1 415 555 0100",
])
def test_invalid_mobile_numbers_are_refused(raw):
    with pytest.raises(ValidationError) as exc_info:
        validate_phone(raw)
    assert _code(exc_info) == "phone_format"


def test_normalize_phone_keeps_what_it_cannot_understand():
    assert normalize_phone(None) == ""
    assert normalize_phone("+44 20 7946 0000") == "+442079460000"


@pytest.mark.parametrize("raw, name", [
    ("  张三  ", "张三"),
    ("张 三", "张三"),             # padded to line up with three-character names
    ("张\u3000三", "张三"),        # an ideographic space
    ("欧阳  锋", "欧阳锋"),
    ("John   Smith", "John Smith"),
    ("阿沛·阿旺晋美", "阿沛·阿旺晋美"),
    (None, ""),
])
def test_names_are_normalised(raw, name):
    assert normalize_name(raw) == name


@pytest.mark.parametrize("name, surname", [
    ("张三", "张"),
    ("张 三", "张"),
    ("王小明", "王"),
    ("欧阳锋", "欧阳"),
    ("司马 懿", "司马"),
    ("诸葛亮", "诸葛"),
    ("上官婉儿", "上官"),
    ("John Smith", "smith"),
    ("Mary Ann  Evans", "evans"),
    ("李", "李"),
    ("", ""),
    ("   ", ""),
])
def test_surnames_including_compound_ones(name, surname):
    assert surname_of(name) == surname

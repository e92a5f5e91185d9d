"""What personal data looks like on screen unless someone reveals it."""

import pytest

from linli.core.masking import (
    MASKS, mask_address, mask_date, mask_id_number, mask_name, mask_phone, mask_text,
)


@pytest.mark.parametrize("name, masked", [
    ("张三", "张*"),
    ("张小明", "张*明"),
    ("欧阳小锋", "欧**锋"),
    ("李", "*"),
    ("", ""),
    ("  王小明  ", "王*明"),
    ("John Smith", "J********h"),
])
def test_names_keep_only_the_first_and_last_characters(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize("phone, masked", [
    ("13812341234", "138****1234"),
    ("13900000001", "139****0001"),
    ("123456", "******"),
    ("", ""),
])
def test_phones_show_the_first_three_and_last_four_digits(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize("number, masked", [
    ("11010519491231002X", "1101**********002X"),
    ("510106198001010011", "5101**********0011"),
    ("1234567", "*******"),
    ("", ""),
])
def test_id_numbers_hide_the_birth_date_and_serial(number, masked):
    assert mask_id_number(number) == masked
    assert "19491231" not in mask_id_number("11010519491231002X")


@pytest.mark.parametrize("address, masked", [
    ("四川省成都市金牛区驷马桥路1号", "四川省成都市****"),
    ("金牛区驷马桥", "****"),
    ("", "****"),
])
def test_addresses_keep_only_the_region(address, masked):
    assert mask_address(address) == masked


@pytest.mark.parametrize("value, masked", [
    ("1956-03-12", "1956-**-**"),
    ("1956", "1956-**-**"),
    ("56", "****"),
])
def test_dates_keep_only_the_year(value, masked):
    assert mask_date(value) == masked


def test_free_text_is_hidden_entirely():
    assert mask_text("对门邻居说他有时忘记关煤气") == "******"
    assert mask_text("") == ""


@pytest.mark.parametrize("kind, value, secret", [
    ("name", "张小明", "小"),
    ("phone", "13812345678", "2345"),
    ("id_number", "11010519491231002X", "19491231"),
    ("address", "四川省成都市金牛区驷马桥路1号", "驷马桥路1号"),
    ("date", "1956-03-12", "03-12"),
    ("text", "低保户", "低保"),
])
def test_every_kind_hides_the_identifying_part(kind, value, secret):
    masked = MASKS[kind](value)
    assert masked != value
    assert secret not in masked


def test_every_protected_kind_has_a_mask():
    assert set(MASKS) == {"name", "phone", "id_number", "address", "date", "text"}


def test_scrub_masks_numbers_always_and_names_and_doors_when_asked():
    from linli.core.masking import scrub

    text = "王小红家14栋1单元602室漏水，电话13812345678，身份证510106199001011234，见3幢2单元501号和14-1-602"
    assert scrub(text) == ("王小红家14栋1单元602室漏水，电话138****5678，身份证5101**********1234，"
                           "见3幢2单元501号和14-1-602")
    assert scrub(text, names=["王小红", "李"], doors=True) == (
        "王*红家***漏水，电话138****5678，身份证5101**********1234，见***和***")
    assert scrub("路灯坏了2天，共3处", doors=True) == "路灯坏了2天，共3处"


def test_the_scrubbed_filter_masks_numbers_and_doors_of_plain_and_sealed_text():
    from django.template import Context, Template

    from linli.core.fields import Protected

    template = Template("{% load masking %}{{ reason|scrubbed }}|{{ sealed|scrubbed }}|{{ missing|scrubbed }}")
    sealed = Protected(plain="身份证510106199001011234", kind="text", context="test")
    out = template.render(Context({"reason": "住14栋1单元602室，电话13812345678", "missing": None,
                                   "sealed": sealed}))
    assert out == "住***，电话138****5678|身份证5101**********1234|"

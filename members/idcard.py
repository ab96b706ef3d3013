"""PRC resident identity card numbers (GB 11643-1999): 18 characters, ISO 7064 MOD 11-2."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext_lazy as _

_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_CHECK = "10X98765432"
_PATTERN = re.compile(r"^\d{17}[\dX]$")

PROVINCES = {
    "11": "北京",
    "12": "天津",
    "13": "河北",
    "14": "山西",
    "15": "内蒙古",
    "21": "辽宁",
    "22": "吉林",
    "23": "黑龙江",
    "31": "上海",
    "32": "江苏",
    "33": "浙江",
    "34": "安徽",
    "35": "福建",
    "36": "江西",
    "37": "山东",
    "41": "河南",
    "42": "湖北",
    "43": "湖南",
    "44": "广东",
    "45": "广西",
    "46": "海南",
    "50": "重庆",
    "51": "四川",
    "52": "贵州",
    "53": "云南",
    "54": "西藏",
    "61": "陕西",
    "62": "甘肃",
    "63": "青海",
    "64": "宁夏",
    "65": "新疆",
    "71": "台湾",
    "81": "香港",
    "82": "澳门",
}


class InvalidIdNumber(ValueError):
    """args[0] is a translatable message; `reason` a stable code: format, region, date, checksum."""

    def __init__(self, message, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class IdNumber:
    number: str
    birth_date: date
    region_code: str
    province: str
    gender: str  # "male" / "female" from the 17th digit


def check_digit(first17: str) -> str:
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def normalise(raw: str) -> str:
    return (raw or "").strip().replace(" ", "").upper()


def parse_id_number(raw: str, *, today: date | None = None) -> IdNumber:
    """Validate and decode; raises InvalidIdNumber with a translatable message."""
    number = normalise(raw)
    if not _PATTERN.match(number):
        raise InvalidIdNumber(_("An ID number has 17 digits followed by a digit or X."), "format")
    if number[:2] not in PROVINCES:
        raise InvalidIdNumber(_("The region code of this ID number is not valid."), "region")
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdNumber(_("The birth date in this ID number is not a valid date."), "date")
    today = today or date.today()  # noqa: DTZ011 - a calendar date, local to the member
    if birth > today or birth.year < 1900:
        raise InvalidIdNumber(_("The birth date in this ID number is not possible."), "date")
    if check_digit(number[:17]) != number[17]:
        raise InvalidIdNumber(_("The check digit of this ID number is wrong."), "checksum")
    return IdNumber(
        number=number,
        birth_date=birth,
        region_code=number[:6],
        province=PROVINCES[number[:2]],
        gender="male" if int(number[16]) % 2 else "female",
    )


def mask_id_number(number: str) -> str:
    """110105199001011234 → 110***********1234"""
    if len(number) <= 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def mask_name(name: str) -> str:
    """张三丰 → 张**; a single character stays hidden."""
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 11 else "*" * len(phone)


def mask_email(email: str | None) -> str:
    if not email or "@" not in email:
        return email or ""
    local, domain = email.split("@", 1)
    return (local[:1] + "***@" + domain) if local else "***@" + domain

"""End to end: a real browser (Chromium, JavaScript off) registers by SMS code, logs out, logs back in
by SMS code and opens the main member-centre pages in zh-hans and English at phone width.

Skips when the playwright package or /usr/bin/chromium is missing (never downloads a browser).
"""

import os
import re
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} not installed", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

from members import sms  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)

FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = "13912345678"

# page, text that must be on it in zh-hans
PAGES_ZH = [
    ("/", "我的积分"),
    ("/profile/", "个人资料"),
    ("/verification/", "认证"),
    ("/messages/", "消息"),
    ("/feedback/", "反馈"),
    ("/privacy/", "隐私"),
    ("/points/", "积分明细"),
    ("/points/mall/", "积分商城"),
    ("/tiers/", "我的等级"),
    ("/tiers/growth/", "成长值"),
    ("/benefits/", "我的权益"),
    ("/benefits/coupons/", "我的优惠券"),
    ("/benefits/coupons/?tab=used", "我的优惠券"),
    ("/benefits/trials/", "免费试用"),
]
PAGES_EN = [
    ("/", "My points"),
    ("/points/", "History"),
    ("/tiers/", "My tier"),
    ("/benefits/coupons/", "My coupons"),
]


@pytest.fixture
def browser():
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield b
        b.close()


def _code_for(phone: str) -> str:
    for to, text in reversed(sms.outbox):
        if to.endswith(phone[-4:]) or to == phone:
            match = re.search(r"\b(\d{6})\b", text)
            if match:
                return match.group(1)
    raise AssertionError(f"no SMS code sent to {phone}: {sms.outbox!r}")


def _open(page, base: str, path: str, text: str) -> None:
    response = page.goto(base + path)
    assert response is not None and response.status == 200, f"{path}: {response and response.status}"
    body = page.inner_text("body")
    assert text in body, f"{path}: {text!r} not on the page"
    # nothing wider than the phone screen (tables stack or scroll inside their own box)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{path}: page is {width}px wide"


def test_register_login_and_browse_member_centre(live_server, browser, settings):
    settings.MEMBERS_CODE_LIMITS = {"target_per_minute": 5}  # a second code within the minute
    sms.outbox.clear()
    base = live_server.url
    ctx = browser.new_context(
        viewport={"width": 390, "height": 844}, java_script_enabled=False, locale="zh-CN"
    )
    page = ctx.new_page()
    page.set_default_timeout(10_000)

    # register by phone and SMS code (default language zh-hans)
    page.goto(base + "/register/phone/")
    page.fill("input[name=phone]", PHONE)
    page.click("button[name=action][value=send]")
    page.fill("input[name=phone]", PHONE)
    page.fill("input[name=code]", _code_for(PHONE))
    page.fill("input[name=nickname]", "小测")
    page.check("input[name=agree]")
    page.click("button[name=action][value=register]")
    assert "您好，小测" in page.inner_text("main")

    # log out, then log in again by SMS code
    page.click("form[action$='/logout/'] button")
    page.goto(base + "/login/sms/")
    sms.outbox.clear()
    page.fill("input[name=phone]", PHONE)
    page.click("button[name=action][value=send]")
    page.fill("input[name=phone]", PHONE)
    page.fill("input[name=code]", _code_for(PHONE))
    page.click("button[name=action][value=login]")
    assert "您好，小测" in page.inner_text("main")
    assert "退出登录" in page.inner_text("header")

    for path, text in PAGES_ZH:
        _open(page, base, path, text)

    # switch to English with the header's language form (no JavaScript)
    page.select_option("select[name=language]", "en")
    page.click("form.mh-lang button")
    for path, text in PAGES_EN:
        _open(page, base, path, text)
    ctx.close()

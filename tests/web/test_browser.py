"""End to end in a real browser: the mirror page as a shopper sees it (Debian's chromium, fake camera, uvicorn).

Assertions are on screenshots: the lips carry the product's colour, the carousel changes the shade, the buy
QR code on screen decodes to the buy link, the page fits a 420 px phone, and without a camera it says so and
takes a photo instead.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import cv2
import httpx
import pytest

from arlens.events import read_events
from arlens.web import WebOptions, create_app
from tests.web.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Server,
    camera_args,
    element_image,
    frames_after,
    frames_shown,
    require_browser,
    screenshot,
    write_y4m,
)
from tests.web.looks import distance, hex_bgr, lab, lip_colour

PLUM = ("LIP-007", "#5A1E36")   # the start product: far from the portrait's own red lips
MOCHA = ("LIP-008", "#7B4A3A")  # the next one in the carousel
PEACH = ("LIP-014", "#F0A284")  # a light shade, far from plum


@pytest.fixture(scope="module")
def playwright():
    sync_playwright = require_browser()
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    app = create_app(WebOptions(workers=2, share_dir=tmp / "shares", events=tmp / "events.jsonl"))
    with Server(app) as s:
        s.events = tmp / "events.jsonl"
        yield s


@pytest.fixture(scope="module")
def camera_browser(playwright, portrait, tmp_path_factory):
    y4m = write_y4m(tmp_path_factory.mktemp("camera") / "face.y4m", portrait, 640, 480)
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + camera_args(y4m))
    yield browser
    browser.close()


def test_mirror_shows_the_product_changes_shade_and_shows_the_buy_qr(server, camera_browser, portrait,
                                                                     face_tracker):
    page = camera_browser.new_page(viewport={"width": 1280, "height": 800})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server.url}/?product={PLUM[0]}")
    frames_after(page, 15)
    natural = lip_colour(portrait, face_tracker)
    plum = lab(hex_bgr(PLUM[1]))
    first = lip_colour(screenshot(page), face_tracker)
    assert distance(first, plum) < 0.6 * distance(natural, plum), (first, natural)
    assert page.locator(f'.chip[data-product="{PLUM[0]}"]').get_attribute("aria-pressed") == "true"
    assert "24.00 USD" in page.locator(f'.chip[data-product="{PLUM[0]}"]').inner_text()

    page.click("#next")  # the carousel's next shade
    page.wait_for_selector(f'.chip[data-product="{MOCHA[0]}"][aria-pressed="true"]')
    page.click(f'.chip[data-product="{PEACH[0]}"]')  # a tap on a card of the carousel
    page.wait_for_selector(f'.chip[data-product="{PEACH[0]}"][aria-pressed="true"]')
    frames_after(page, 10)
    second = lip_colour(screenshot(page), face_tracker)
    peach = lab(hex_bgr(PEACH[1]))
    assert distance(second, peach) < distance(first, peach) - 10, (first, second)
    assert distance(second, plum) > distance(first, plum) + 10

    page.click("#buy")
    page.wait_for_selector("#qr-card:not([hidden])")
    page.wait_for_function("document.getElementById('qr-img').complete")
    assert page.evaluate("window.arlensStats.buy.product") == PEACH[0]
    decoded, _, _ = cv2.QRCodeDetector().detectAndDecode(element_image(page, "#qr-img"))
    query = parse_qs(urlsplit(decoded).query)
    assert decoded.startswith("https://shop.example/") and query["utm_medium"] == ["qr"]
    assert query["utm_content"] == [PEACH[0]]
    assert page.inner_text("#qr-title") == "Peach Glaze Lipstick"

    page.click("#snap")
    page.wait_for_selector("#shot-card:not([hidden])")
    page.click("#share")
    page.wait_for_selector("#shot-share:not([hidden])")
    url = page.get_attribute("#share-link", "href")
    shared = httpx.get(url).text
    og = dict(re.findall(r'<meta property="([^"]+)" content="([^"]*)">', shared))
    assert og["og:type"] == "product" and "Peach Glaze" in og["og:title"] and og["og:image"] == url + ".jpg"
    assert httpx.get(og["og:image"]).headers["content-type"] == "image/jpeg"
    assert errors == []
    page.close()
    types = {e.type for e in read_events(server.events)}
    assert {"lens_shown", "shade_changed", "buy_link_shown", "snapshot_taken"} <= types


def test_a_420px_phone_by_touch_alone(server, playwright, portrait, tmp_path, face_tracker):
    y4m = write_y4m(tmp_path / "face.y4m", portrait, 640, 480)
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + camera_args(y4m))
    try:
        context = browser.new_context(viewport={"width": 420, "height": 860}, has_touch=True, is_mobile=True,
                                      device_scale_factor=1)
        page = context.new_page()
        page.goto(f"{server.url}/?product={PLUM[0]}")
        frames_after(page, 10)
        assert page.evaluate("document.documentElement.scrollWidth") <= 420  # nothing spills sideways
        for selector in ("#buy", "#snap", "#prev", "#next", f'.chip[data-product="{PLUM[0]}"]', ".tab"):
            box = page.locator(selector).first.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 420 and box["y"] + box["height"] <= 860
            assert box["height"] >= 40  # a finger's target
        # a swipe on the mirror moves to the next shade
        page.mouse.move(330, 300)
        page.mouse.down()
        page.mouse.move(120, 305, steps=6)
        page.mouse.up()
        page.wait_for_selector(f'.chip[data-product="{MOCHA[0]}"][aria-pressed="true"]')
        page.tap("#prev")
        page.wait_for_selector(f'.chip[data-product="{PLUM[0]}"][aria-pressed="true"]')
        frames_after(page, 8)
        lips = lip_colour(screenshot(page), face_tracker)
        plum = lab(hex_bgr(PLUM[1]))
        assert distance(lips, plum) < 0.6 * distance(lip_colour(portrait, face_tracker), plum)
        page.tap("#buy")
        page.wait_for_selector("#qr-card:not([hidden])")
        page.wait_for_function("document.getElementById('qr-img').complete")
        decoded, _, _ = cv2.QRCodeDetector().detectAndDecode(element_image(page, "#qr-img"))
        assert parse_qs(urlsplit(decoded).query)["utm_content"] == [PLUM[0]]
        box = page.locator("#qr-card").bounding_box()
        assert box["x"] + box["width"] <= 420
    finally:
        browser.close()


@pytest.mark.parametrize("camera", ["none", "denied"])
def test_without_a_camera_it_says_so_and_takes_a_photo(server, playwright, portrait, tmp_path, camera,
                                                       face_tracker):
    args = CHROMIUM_ARGS + (["--use-fake-device-for-media-stream", "--deny-permission-prompts"]
                            if camera == "denied" else [])
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{server.url}/?product={PLUM[0]}")
        page.wait_for_selector("#nocam:not([hidden])")
        reason = page.inner_text("#nocam-reason")
        assert ("denied" in reason) if camera == "denied" else ("No camera" in reason)
        assert page.locator("label[for=photo]").is_visible()
        photo = tmp_path / "me.png"
        cv2.imwrite(str(photo), portrait)
        before = frames_shown(page)
        page.set_input_files("#photo", str(photo))
        frames_after(page, 1, since=before)  # the photo's one frame may be on screen before this call
        page.wait_for_function("window.arlensStats.lastFrame && window.arlensStats.lastFrame.faces === 1")
        lips = lip_colour(screenshot(page), face_tracker)
        plum = lab(hex_bgr(PLUM[1]))
        assert distance(lips, plum) < 0.6 * distance(lip_colour(portrait, face_tracker), plum)
    finally:
        browser.close()

"""The Spanish labeling page in a real browser: Debian's chromium, headless, driven by Playwright."""

import shutil

import pytest

from tests.labeling import corpus
from tests.labeling.conftest import SAMPLES_DIR

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# The first job of a session may load TensorFlow and the model in the worker.
RESULTS_MILLISECONDS = 180_000


@pytest.fixture
def browser_page():
    """A page of a new headless chromium, in Spanish (Chile). Request it after the database fixtures:
    Playwright runs an event loop in this thread, where Django then refuses database queries."""
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM), "chromium is missing: install Debian's chromium package"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="es-CL")
        yield context.new_page()
        browser.close()


def test_page_redirects_anonymous_to_admin_login(live_server, browser_page):
    browser_page.goto(f"{live_server.url}/etiquetar/")

    assert "/admin/login/" in browser_page.url
    assert "next=/etiquetar/" in browser_page.url


def test_page_labels_dropped_images(live_server, celery_worker, served_version, staff_user, tmp_path, browser_page):
    bad_file = tmp_path / "notas.jpg"
    bad_file.write_bytes(corpus.NOT_AN_IMAGE)
    page = browser_page

    page.goto(f"{live_server.url}/etiquetar/")
    page.fill("#id_username", "analista")
    page.fill("#id_password", "clave-de-prueba-9")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/etiquetar/")
    assert page.inner_text("h1") == "Etiquetar imágenes"

    page.set_input_files("#images", [str(SAMPLES_DIR / "chelsea.png"), str(SAMPLES_DIR / "coffee.png"), str(bad_file)])
    page.click("#send")
    page.wait_for_selector("#results .result >> nth=2", timeout=RESULTS_MILLISECONDS)

    cards = page.locator("#results .result")
    assert cards.count() == 3
    chelsea = cards.nth(0)
    assert chelsea.locator("h2").inner_text() == "chelsea.png"
    assert chelsea.locator("img").get_attribute("src").startswith("blob:")
    assert chelsea.locator("ol.top li").count() == 3
    assert chelsea.locator(".bar span").count() == 3
    assert chelsea.locator(".label, .not-sure").count() == 1
    assert "%" in chelsea.locator(".class-name").first.inner_text()
    bad = cards.nth(2)
    assert bad.get_attribute("data-status") == "failed"
    assert "no es una imagen" in bad.locator(".error").inner_text()
    assert page.inner_text("#status") == "Listo."


def test_page_shows_not_sure_answer(live_server, celery_worker, served_version, staff_user, settings, browser_page):
    settings.LABELING_DEFAULT_THRESHOLD = 1.0
    page = browser_page
    page.goto(f"{live_server.url}/admin/login/?next=/etiquetar/")
    page.fill("#id_username", "analista")
    page.fill("#id_password", "clave-de-prueba-9")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/etiquetar/")

    page.set_input_files("#images", [str(SAMPLES_DIR / "astronaut.png")])
    page.click("#send")
    page.wait_for_selector("#results .result", timeout=RESULTS_MILLISECONDS)

    assert page.inner_text("#results .not-sure") == "No estoy seguro"
    assert page.inner_text("#results .reason").startswith("No estoy seguro: la clase más probable")

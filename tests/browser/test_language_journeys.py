"""Journeys in French and Turkish: the programme page and the audience room, as a visitor
whose browser asks for the language (``Accept-Language``), and the switcher on the page."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect
from test_room_page import room_url, watch_console

pytestmark = pytest.mark.browser

SUMMIT = "mayors-summit-2021"
ARABIC = "كيف نبني مدنا أكثر صمودا؟"


async def test_programme_in_french_then_switched_to_turkish(live_server, browser: Browser) -> None:
    context = await browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    problems: list[str] = []
    try:
        page = await context.new_page()
        watch_console(page, problems)
        await page.goto(f"{live_server.url}/events/{SUMMIT}")
        workshop = page.locator("#session-workshop-1-building-resilience")
        await expect(page.locator("html")).to_have_attribute("lang", "fr")
        await expect(page.locator(".day h2").first).to_have_text("mardi 7 décembre 2021")
        await expect(page.locator("[data-viewer-note]")).to_have_text(
            "votre propre fuseau horaire (Paris, UTC+1)"
        )
        await expect(workshop.locator("[data-status-text]")).to_have_text("Salle ouverte")
        await expect(workshop.locator("[data-viewer-label]")).to_have_text("Votre heure")
        await expect(workshop.locator("[data-viewer-time] dd")).to_have_text(
            "14:00–15:30 (Paris, UTC+1)"
        )
        await expect(workshop.get_by_role("link", name="Salle en direct")).to_be_visible()

        await page.get_by_role("button", name="Türkçe").click()
        await expect(page).to_have_url(f"{live_server.url}/events/{SUMMIT}")
        await expect(page.locator("html")).to_have_attribute("lang", "tr")
        await expect(page.locator(".day h2").first).to_have_text("7 Aralık 2021 Salı")
        await expect(workshop.locator("[data-status-text]")).to_have_text("Salon açık")
        await expect(workshop.locator("[data-viewer-label]")).to_have_text("Sizin saatiniz")
        await expect(page.get_by_role("button", name="Türkçe")).to_have_attribute(
            "aria-current", "true"
        )
        # Remembered: the next page keeps Turkish though the browser still asks for French.
        await page.goto(f"{live_server.url}/events/{SUMMIT}/sessions/mayors-dialogue")
        await expect(page.locator("#when-title")).to_have_text("Ne zaman")
        assert problems == []
    finally:
        await context.close()


async def test_audience_room_in_turkish(live_server, browser: Browser) -> None:
    url = room_url(live_server, live_server.room_id("Thematic workshop 1"))
    context = await browser.new_context(locale="tr-TR", timezone_id="Europe/Istanbul")
    problems: list[str] = []
    try:
        page = await context.new_page()
        watch_console(page, problems)
        await page.goto(url)
        await expect(page.locator("html")).to_have_attribute("lang", "tr")
        await page.get_by_label("Görünen ad (isteğe bağlı)").fill("Aylin")
        await page.get_by_role("button", name="Salona katıl").click()
        await expect(page.locator("#connection-status")).to_have_text(
            "Bağlandı — güncellemeler anında görünür."
        )
        await expect(page.locator("#room-state-label")).to_have_text("Lobi açık")
        await expect(page.locator("#room-state-detail")).to_have_text(
            "Lobi açık; oturumun başlangıç saati: 16:00 (Izmir saati)."
        )
        await expect(page.locator("#room-day")).to_have_text("8 Aralık 2021 Çarşamba")
        await expect(page.locator("#ask-as")).to_have_text("Aylin olarak soruyorsunuz.")

        # The server refuses in English with a stable code; the page says it in Turkish.
        question = page.get_by_label("Sorunuz", exact=True)
        await question.fill("ab")
        await page.get_by_role("button", name="Soruyu gönder").click()
        await expect(page.locator("#ask-error")).to_have_text(
            "Sorunuz çok kısa: en az 3 karakter yazın."
        )
        await question.fill("x" * 503)
        await expect(page.locator("#ask-count")).to_have_text("503 / 500: 3 fazla")

        # Addressed to one panelist, anonymously: the next question starts afresh.
        await question.fill(ARABIC)
        addressee = page.get_by_label("Kime")
        await addressee.select_option(index=1)  # Mr. Sameh Wahba
        await page.get_by_label("Anonim olarak sor").check()
        await page.get_by_role("button", name="Soruyu gönder").click()
        await expect(page.locator("#ask-sent")).to_have_text(
            "Gönderildi. Moderasyon bekliyor: ne olduğunu “Sorularınız” bölümü gösterir."
        )
        own = page.locator("#qa-mine-list li")
        await expect(own.locator(".room-qa-text")).to_have_text(ARABIC)
        await expect(own.locator(".room-qa-text")).to_have_attribute("dir", "auto")
        await expect(own.locator(".room-qa-status")).to_have_text("Moderasyon bekliyor")
        # The rehearsal clock runs on from 15:50 in Izmir; the zone is always named.
        await expect(own.locator(".room-qa-meta")).to_have_text(
            re.compile(r"^Anonim olarak soruldu alıcı: Sameh Wahba saat 15:5\d \(UTC\+3\)$")
        )
        await expect(addressee).to_have_value("")
        await expect(page.get_by_label("Anonim olarak sor")).not_to_be_checked()
        await expect(page.locator("#ask-as")).to_have_text("Aylin olarak soruyorsunuz.")
        await expect(page.locator("#qa-empty")).to_have_text("Henüz soru yok.")
        assert problems == []
    finally:
        await context.close()


async def test_audience_room_in_french_before_joining(live_server, browser: Browser) -> None:
    url = room_url(live_server, live_server.room_id("Thematic workshop 1"))
    context = await browser.new_context(locale="fr-CA", timezone_id="America/Montreal")
    problems: list[str] = []
    try:
        page = await context.new_page()
        watch_console(page, problems)
        await page.goto(url)
        await expect(page.locator("html")).to_have_attribute("lang", "fr")
        await expect(page.locator("#join-form h2")).to_have_text("Rejoindre la salle")
        await expect(page.locator("#room-state-label")).to_have_text("Accueil ouvert")
        await expect(page.locator("#room-zones li")).to_have_text(
            [
                "Izmir 16:00–17:30",
                "Paris 14:00–15:30",
                "Montréal 08:00–09:30",
                # The viewer's own clock too (Chromium names Montréal's zone Toronto's).
                "Votre heure 08:00–09:30 (UTC-5, America/Toronto)",
            ]
        )
        assert problems == []
    finally:
        await context.close()

"""GET /docs in a real browser, with no internet: every operation is there, nothing leaves.

FastAPI's own page pulls Swagger UI from a CDN; on an intranet that is a blank page.
seatflow serves the pinned Swagger UI itself, under the same strict CSP as the board:
the test fails on any request to another host, any script error and any CSP violation.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from .support import Server

pytestmark = pytest.mark.e2e


@pytest.fixture
def docs(browser: Browser, server: Server) -> Iterator[tuple[Page, list[str], list[str]]]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    elsewhere: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"error: {exc}"))
    page.on(
        "console",
        lambda msg: (
            problems.append(f"console {msg.type}: {msg.text}")
            if msg.type in ("error", "warning")
            else None
        ),
    )
    page.on(
        "request",
        lambda req: None if req.url.startswith(server.base_url) else elsewhere.append(req.url),
    )
    page.goto(f"{server.base_url}/docs")
    try:
        yield page, problems, elsewhere
    finally:
        context.close()


def test_docs_show_every_operation_from_seatflow_alone(docs, server: Server) -> None:
    page, problems, elsewhere = docs
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("seatflow", timeout=15_000)
    expect(page.locator(".opblock-summary-path[data-path='/v1/orders']").first).to_be_visible()
    shown = page.locator(".opblock").count()
    paths = server.client(None).get("/openapi.json").json()["paths"]
    operations = sum(len(ops) for ops in paths.values())
    assert shown == operations, (shown, operations)
    # Open one operation: its request body renders from the document.
    page.locator(".opblock-summary-path[data-path='/v1/orders']").first.click()
    body = page.locator(".opblock.is-open .opblock-section-request-body")
    expect(body).to_contain_text('"priority": 0')
    assert elsewhere == [], f"/docs reached outside the server: {elsewhere}"
    assert problems == [], problems


def test_redoc_is_gone_rather_than_blank(server: Server) -> None:
    r = server.client(None).get("/redoc")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"

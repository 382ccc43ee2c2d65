"""The ``srmzoo serve`` web page in a real browser: Debian's chromium driven by Playwright types a question,
watches the answer stream in, sees the tool call inline and the final answer, runs the check, and stops a
running request.

Skips (it does not fail) where Playwright or chromium is missing: ``pip install playwright`` and
``apt-get install chromium``; the test never downloads a browser. ``SRMZOO_UPDATE_DOCS=1`` also writes
the screenshot to docs/serve_page.png.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")

CHROMIUM = os.environ.get("SRMZOO_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).is_file():
    pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)

sys.path.insert(0, str(Path(__file__).parent))
from serve_helpers import SCRIPT_TEXT, running_server, scripted_model  # noqa: E402

from srmzoo.domain import get_domain  # noqa: E402
from srmzoo.reasoner import Reasoner  # noqa: E402
from srmzoo.serve.engine import Engine  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")
DOCS_SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "serve_page.png"
TIMEOUT_MS = 30_000


def test_the_page_streams_an_answer_shows_the_tool_call_and_checks_it(tiny_run, tmp_path):
    import srmzoo

    tiny = srmzoo.load(tiny_run, merge=True)

    def scripted(name: str, **kwargs) -> Reasoner:
        return Reasoner(name=name, model=scripted_model(tiny.tokenizer, **kwargs), tokenizer=tiny.tokenizer,
                        prompt_format=replace(tiny.prompt_format, tools=("calculator",)), domain=get_domain("math"),
                        meta={"base": {"name": "scripted test model"}})

    healthcare = replace(tiny, name="tiny-healthcare", domain=get_domain("healthcare"))
    engine = Engine([scripted("scripted-math", delay=0.05), healthcare, scripted("scripted-endless", delay=0.05,
                                                                                  repeat=True)], batch_window=0.0)
    with running_server(engine) as url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 760})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(url + "/")
            page.wait_for_selector("#model option", state="attached")
            assert page.eval_on_selector_all("#model option", "os => os.map(o => o.value)") == [
                "scripted-math", "tiny-healthcare", "scripted-endless"]
            assert page.is_hidden("#notice")

            page.fill("#question", "A jacket cost $70 and now costs $56. By how much did the price drop?")
            page.click("#ask")
            # mid-stream: some of the text is there, the answer is not yet
            page.wait_for_function("document.getElementById('reasoning').textContent.length > 0 && "
                                   "document.getElementById('status').textContent.startsWith('streaming')")
            assert page.inner_text("#answer") == "…"
            page.wait_for_selector("#answer:not(.muted)")
            assert page.inner_text("#answer") == "14"
            assert page.text_content("#reasoning") == SCRIPT_TEXT.replace("<<", "").replace(">>", "")
            assert page.inner_text("#reasoning .tool-call") == "70 - 56"
            assert page.inner_text("#reasoning .tool-result") == "14"
            assert page.inner_text("#tool-count") == "(1 tool call)"
            assert page.inner_text("#status").startswith("done (stop), 28 tokens")

            page.fill("#expected", "15")
            page.click("#check")
            page.wait_for_selector("#verdict.wrong")
            page.fill("#expected", "14")
            page.click("#check")
            page.wait_for_selector("#verdict.correct")
            shot = tmp_path / "serve_page.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            if os.environ.get("SRMZOO_UPDATE_DOCS") == "1":
                shutil.copyfile(shot, DOCS_SCREENSHOT)

            page.select_option("#model", "tiny-healthcare")
            assert page.inner_text("#notice") == "For research and education only; not for clinical decisions."

            page.select_option("#model", "scripted-endless")
            assert page.is_hidden("#notice")
            page.click(".settings summary")
            page.fill("#max-tokens", "400")
            page.click("#ask")
            page.wait_for_function("document.getElementById('reasoning').textContent.length > 40")
            page.click("#stop")
            page.wait_for_function("document.getElementById('status').textContent === 'stopped'")
        finally:
            browser.close()
        deadline_ok = _wait(lambda: engine.stats()["running"] == 0 and engine.stats()["cancelled"] == 1)
        assert deadline_ok, engine.stats()


def _wait(predicate, timeout: float = 10.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True

"""Waiting for Streamlit reruns in Playwright without racing (see testing-recipe.md)."""

from playwright.sync_api import Page, expect

APP = '[data-testid="stApp"]'
_COUNTER_JS = """() => {
  const el = document.querySelector('[data-testid="stApp"]');
  if (!window.__stRuns) {
    window.__stRuns = {started: 0};
    // every change to 'running' counts, also one a short run undid before this callback (its record's next value)
    new MutationObserver((records) => {
      records.forEach((record, i) => {
        const next = i + 1 < records.length ? records[i + 1].oldValue : el.getAttribute('data-test-script-state');
        if (next === 'running' && record.oldValue !== 'running') window.__stRuns.started++;
      });
    }).observe(el, {attributes: true, attributeFilter: ['data-test-script-state'], attributeOldValue: true});
  }
  return window.__stRuns.started;
}"""


def wait_for_app_idle(page: Page, timeout: float = 30_000) -> None:
    page.wait_for_selector(f'{APP}[data-test-connection-state="CONNECTED"][data-test-script-state="notRunning"]',
                           timeout=timeout)
    expect(page.locator('[data-stale="true"]')).to_have_count(0, timeout=timeout)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=timeout)


def rerun_after(page: Page, action, timeout: float = 30_000) -> None:
    """Run `action` and wait until the rerun it causes has started and then finished."""
    before = page.evaluate(_COUNTER_JS)
    action()
    page.wait_for_function(f"() => window.__stRuns.started > {before}", timeout=timeout)
    wait_for_app_idle(page, timeout)


def set_number(page: Page, label: str, value) -> None:
    box = page.get_by_test_id("stNumberInput").filter(has_text=label).locator("input")
    box.fill(str(value))
    box.press("Enter")  # fill() alone never commits

"""axe-core in the browser tests: vendored and version-pinned (tests/e2e/vendor/…/README),
injected into the page under test, never served by the portal."""

from pathlib import Path

AXE = Path(__file__).parent / "vendor" / "axe-core-4.10.3" / "axe.min.js"


def assert_no_serious_violation(page) -> None:  # type: ignore[no-untyped-def]  # a Playwright page
    """axe-core finds no serious or critical WCAG 2 A/AA violation on the page."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa']})"
    )
    serious = [
        (v["id"], v["impact"], v["help"], [node["target"] for node in v["nodes"]][:5])
        for v in result["violations"]
        if v["impact"] in {"serious", "critical"}
    ]
    assert serious == [], (page.url, serious)

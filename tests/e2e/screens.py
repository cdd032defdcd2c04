"""Where the browser tests leave their screenshots: `artifacts/screenshots/` of the checkout,
kept by CI as artifacts (ignored by git). English and Japanese of every page they visit."""

from pathlib import Path

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
SCREENSHOTS.mkdir(parents=True, exist_ok=True)

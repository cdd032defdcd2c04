"""Badges the portal generates for what an organization holds: one per designation and
specialization held, and the Microsoft Cloud badge with all six; none for anything else.

The SVG is written as text (the organization's name escaped); the PNG is drawn with Pillow in
the same layout, with the first installed font that has Japanese glyphs (Noto CJK in CI) so a
Japanese organization name renders.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw, ImageFont

from benefits.selectors import Holdings

WIDTH, HEIGHT = 640, 240
MARK_COLOURS = ("#f25022", "#7fba00", "#00a4ef", "#ffb900")
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
)
MICROSOFT_CLOUD = "microsoft-cloud"


@dataclass(frozen=True)
class Badge:
    key: str  # designation or specialization code, or "microsoft-cloud"
    kind: str  # "designation", "specialization", "cloud"
    title: str  # the solution area or specialization
    organization_name: str

    @property
    def filename_stem(self) -> str:
        return f"solutions-partner-{self.key}"


def badges_held(holdings: Holdings) -> list[Badge]:
    """A badge for every designation and specialization held on the holdings' date, and the
    Microsoft Cloud badge when all six designations are held."""
    name = holdings.organization.name
    badges = [
        Badge(
            key=h.designation.code,
            kind="designation",
            title=h.designation.display_name,
            organization_name=name,
        )
        for h in holdings.held
    ]
    badges += [
        Badge(
            key=award.specialization.code,
            kind="specialization",
            title=award.specialization.display_name,
            organization_name=name,
        )
        for award in holdings.specializations
    ]
    if holdings.microsoft_cloud:
        badges.append(
            Badge(
                key=MICROSOFT_CLOUD, kind="cloud", title="Microsoft Cloud", organization_name=name
            )
        )
    return badges


def _eyebrow(badge: Badge) -> str:
    return "Specialization" if badge.kind == "specialization" else "Solutions Partner"


def badge_svg(badge: Badge) -> str:
    """The badge as an SVG document."""
    squares = "".join(
        f'<rect x="{32 + (i % 2) * 34}" y="{40 + (i // 2) * 34}" width="30" height="30" '
        f'fill="{colour}"/>'
        for i, colour in enumerate(MARK_COLOURS)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(badge.title)}">'
        f'<rect width="{WIDTH}" height="{HEIGHT}" rx="12" fill="#ffffff" stroke="#1b1b1b" '
        'stroke-width="2"/>'
        f"{squares}"
        '<text x="124" y="62" font-family="Segoe UI, Noto Sans CJK JP, sans-serif" '
        f'font-size="20" fill="#5c5c5c">Microsoft {escape(_eyebrow(badge))}</text>'
        '<text x="124" y="104" font-family="Segoe UI, Noto Sans CJK JP, sans-serif" '
        f'font-size="30" font-weight="700" fill="#1b1b1b">{escape(badge.title)}</text>'
        f'<line x1="32" y1="150" x2="{WIDTH - 32}" y2="150" stroke="#d1d1d1" stroke-width="1"/>'
        '<text x="32" y="196" font-family="Segoe UI, Noto Sans CJK JP, sans-serif" '
        f'font-size="24" fill="#1b1b1b" data-role="organization">'
        f"{escape(badge.organization_name)}</text>"
        "</svg>\n"
    )


@cache
def _font_path() -> str | None:
    return next((path for path in FONT_CANDIDATES if Path(path).exists()), None)


Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def _font(size: int) -> Font:
    path = _font_path()
    if path is None:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(path, size=size)


def _fit(draw: ImageDraw.ImageDraw, text: str, size: int, width: int) -> tuple[str, Font]:
    """Shrink the font (down to 14 px) until the text fits the width, then cut it."""
    while size > 14:
        font = _font(size)
        if draw.textlength(text, font=font) <= width:
            return text, font
        size -= 2
    font = _font(size)
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…", font


def badge_png(badge: Badge) -> bytes:
    """The badge as a PNG image of WIDTH × HEIGHT pixels."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "#ffffff")
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((1, 1, WIDTH - 2, HEIGHT - 2), radius=12, outline="#1b1b1b", width=2)
    for i, colour in enumerate(MARK_COLOURS):
        x, y = 32 + (i % 2) * 34, 40 + (i // 2) * 34
        draw.rectangle((x, y, x + 30, y + 30), fill=colour)
    draw.text((124, 42), f"Microsoft {_eyebrow(badge)}", font=_font(20), fill="#5c5c5c")
    title, title_font = _fit(draw, badge.title, 30, WIDTH - 124 - 32)
    draw.text((124, 72), title, font=title_font, fill="#1b1b1b")
    draw.line((32, 150, WIDTH - 32, 150), fill="#d1d1d1", width=1)
    name, name_font = _fit(draw, badge.organization_name, 24, WIDTH - 64)
    draw.text((32, 168), name, font=name_font, fill="#1b1b1b")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()

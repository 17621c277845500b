"""The PDF of a signed credit report (Art. 39 para. 5), rendered from its signed payload.

A Typst template (``templates/report.typ``) typeset by the Typst compiler (the ``typst``
package) in Debian's Noto Sans CJK SC (``fonts-noto-cjk``), of which the PDF embeds only the
glyphs it uses - a rare hanzi of a name included; a QR code of the verification address by
segno; page numbers and the report number on every page. The PDF carries the SHA-256 digest of
the JWS it was rendered from, so a verifier matches the paper with the JSON and with
``GET /v1/reports/{number}/verification``. One compiler per process reads the fonts once and
keeps what it typeset before; it compiles one report at a time. Without the fonts only the PDF
is unavailable (503), never the report.
"""

from __future__ import annotations

import io
import json
import threading
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import segno
import typst

from gateway.reports.errors import RendererUnavailable

TEMPLATE = Path(__file__).resolve().parent / "templates" / "report.typ"
FONTS = Path("/usr/share/fonts/opentype/noto")
"""Where Debian's fonts-noto-cjk installs Noto Sans CJK."""
FAMILY = "Noto Sans CJK SC"
WEIGHTS = {400: "Regular", 700: "Bold"}
"""The weights of ``FAMILY`` the template sets, by the name of their face."""
CST = timezone(timedelta(hours=8), "CST")
USES = {
    "loan": ("贷款", "Loan"),
    "bidding": ("招标投标", "Bidding"),
    "administrative_approval": ("行政审批", "Administrative approval"),
    "employment": ("就业", "Employment"),
    "tenancy": ("租赁", "Tenancy"),
    "other": ("其他", "Other"),
}
LABELS = {
    "under_objection": ("异议处理中", "Under objection"),
    "revoked": ("已撤销", "Revoked"),
    "restored": ("已信用修复", "Restored"),
    "subject_statement": ("信用主体声明", "Subject's statement"),
}
BASIS_KINDS = {
    "ruling": ("裁判文书", "Ruling"),
    "administrative_decision": ("行政决定", "Administrative decision"),
    "other_legal_document": ("其他法律文书", "Other legal document"),
}
_LOCK = threading.Lock()


def render_pdf(payload: dict[str, Any], digest: str) -> bytes:
    """The report's PDF; raises ``RendererUnavailable`` when its fonts are not installed."""
    data = {
        "report": payload,
        "digest": [digest[i : i + 8] for i in range(0, len(digest), 8)],
        "issued_at": _local(payload["iat"]),
        "valid_until": _local(payload["exp"]),
        "use": USES.get(payload["use"], (payload["use"], payload["use"])),
        "labels": LABELS,
        "basis_kinds": BASIS_KINDS,
        "qr": _qr_svg(payload["verification"]["url"], payload["verification"]["code"]),
    }
    inputs = {"data": json.dumps(data, ensure_ascii=False)}
    with _LOCK:
        pdf = _compiler().compile(sys_inputs=inputs, timestamp=payload["iat"])
    assert isinstance(pdf, bytes)  # no output path: the PDF is returned
    return pdf


@cache
def _compiler() -> typst.Compiler:
    """The process's compiler, made on its first report (held under ``_LOCK``)."""
    fonts = typst.Fonts(include_system_fonts=False, font_paths=[str(FONTS)])
    found = {font.weight for font in fonts.fonts() if font.family == FAMILY}
    missing = [f"{FAMILY} {name}" for weight, name in WEIGHTS.items() if weight not in found]
    if missing:
        raise RendererUnavailable(
            f"the report's fonts are not installed: {', '.join(missing)} in {FONTS}"
            " (Debian: fonts-noto-cjk)"
        )
    return typst.Compiler(TEMPLATE, root=TEMPLATE.parent, font_paths=fonts)


def _local(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).astimezone(CST).strftime("%Y-%m-%d %H:%M CST")


def _qr_svg(url: str, code: str) -> str:
    """The verification address with its code, as an SVG QR code (error correction M): segno
    writes only the modules' path, nothing of the address as text."""
    svg = io.BytesIO()
    segno.make(f"{url}?code={code}", error="m").save(svg, kind="svg", border=2, xmldecl=False)
    return svg.getvalue().decode()

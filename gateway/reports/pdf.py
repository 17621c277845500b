"""The PDF of a signed credit report (Art. 39 para. 5), rendered from its signed payload.

HTML from a Jinja template and one stylesheet (parsed once), typeset by WeasyPrint with Debian's
Noto CJK fonts embedded (only the glyphs used, cut from the faces :mod:`gateway.reports.fonts`
prepares), a QR code of the verification address by segno, page numbers and the report number
on every page. The PDF carries the SHA-256 digest of the JWS it was rendered from, so a
verifier matches the paper with the JSON and with ``GET /v1/reports/{number}/verification``.
WeasyPrint needs Pango from the operating system: when it is missing only the PDF is
unavailable (503), never the report.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import segno
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from gateway.reports.errors import RendererUnavailable
from gateway.reports.fonts import report_faces

if TYPE_CHECKING:
    from weasyprint import CSS

TEMPLATES = Path(__file__).resolve().parent / "templates"
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


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
    )


def render_pdf(payload: dict[str, Any], digest: str) -> bytes:
    """The report's PDF; raises ``RendererUnavailable`` when WeasyPrint cannot run here."""
    try:
        from weasyprint import CSS, HTML
    except (ImportError, OSError) as exc:  # OSError: Pango missing from the system
        raise RendererUnavailable("the PDF renderer is not installed on this server") from exc
    html = (
        _environment()
        .get_template("report.html")
        .render(
            report=payload,
            digest_groups=[digest[i : i + 8] for i in range(0, len(digest), 8)],
            issued_at=_local(payload["iat"]),
            valid_until=_local(payload["exp"]),
            use=USES.get(payload["use"], (payload["use"], payload["use"])),
            labels=LABELS,
            basis_kinds=BASIS_KINDS,
            qr=_qr_svg(payload["verification"]["url"], payload["verification"]["code"]),
            faces=report_faces(),
        )
    )
    document = HTML(string=html, base_url=str(TEMPLATES))
    pdf: bytes = document.write_pdf(stylesheets=[_stylesheet(CSS)], custom_metadata=True)
    return pdf


@cache
def _stylesheet(css: type[CSS]) -> CSS:
    """``report.css``, the same for every report: parsed once per process."""
    return css(filename=TEMPLATES / "report.css")


def _local(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).astimezone(CST).strftime("%Y-%m-%d %H:%M CST")


def _qr_svg(url: str, code: str) -> str:
    """The verification address with its code, as an inline SVG QR code (error correction M):
    segno writes only the modules' path, nothing of the address as text."""
    qr = segno.make(f"{url}?code={code}", error="m")
    svg: str = qr.svg_inline(scale=3, border=2)
    return svg

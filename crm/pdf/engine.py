"""The PDF engine every printout uses: a Jinja template (extending `pdf/base.html`) → WeasyPrint → bytes.

- Chinese is drawn with the Noto Sans SC files shipped in static/fonts, embedded and subset (no boxes
  for the 7,333 common characters they cover; see static/fonts/README).
- One FontConfiguration serves every render: building it and loading a 2.5 MB font cost more than a page.
- WeasyPrint fetches only the app's own static files and uploads; anything else (the internet,
  file:// elsewhere, path traversal) is refused, logged and skipped, and the render goes on.
- An unchanged document is not rendered twice: the PDF is kept under PDF_CACHE_DIR, named by the
  sha256 of its HTML and page options. The HTML carries the print date, so entries turn over daily.

WeasyPrint is imported on first use, never at import time: it costs ~0.7 s, which no page but a
printout should pay (and the app factory imports this module through the views).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import mimetypes
import os
import re
import tempfile
import threading
import time
import unicodedata
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, unquote, unquote_to_bytes, urlsplit
from urllib.request import url2pathname
from zoneinfo import ZoneInfo

from flask import Response, current_app, has_request_context, render_template, request
from flask_babel import gettext as _
from markupsafe import Markup

log = logging.getLogger(__name__)

PAGE_SIZES = ("A4", "A3")
PRINT_TIMEZONE = ZoneInfo("Asia/Shanghai")
# Relative URLs in a printout (url_for('static', ...)) resolve against this origin. `.invalid` never
# resolves (RFC 2606), and the fetcher maps it onto local folders without touching the network.
ASSET_ORIGIN = "http://pantu-assets.invalid"
ASSET_BASE_URL = ASSET_ORIGIN + "/"
UPLOADS_URL_PREFIX = "/uploads/"
FONT_FILES = {400: "NotoSansSC-Regular.ttf", 700: "NotoSansSC-Bold.ttf"}
FONT_FAMILY = "Noto Sans SC"
# Bump when a change outside the rendered HTML (engine options, fonts) must invalidate cached PDFs.
CACHE_FORMAT = "pantu-pdf-1"
CACHE_MAX_AGE_SECONDS = 7 * 24 * 3600

_font_config = None  # the one weasyprint FontConfiguration, built on first render
_render_lock = threading.Lock()  # Pango/fontconfig objects are not safe to share between threads


# --- rendering --------------------------------------------------------------------------------


def render_pdf(
    template_name: str,
    *,
    page_size: str = "A4",
    landscape: bool = False,
    title: str = "",
    dealer_name: str = "",
    **context,
) -> bytes:
    """Render `template_name` (which extends pdf/base.html) to PDF bytes, from the cache when unchanged.

    The template gets `title`, `dealer_name`, `printed_on` (today in Asia/Shanghai, YYYY-MM-DD) and
    `page_css` besides `context`. Needs an app context (a request context if it calls url_for).
    """
    if page_size not in PAGE_SIZES:
        raise ValueError(f"page_size must be one of {PAGE_SIZES}, not {page_size!r}")
    printed_on = datetime.now(PRINT_TIMEZONE).date().isoformat()
    page_css = build_page_css(
        page_size=page_size, landscape=landscape, title=title, dealer_name=dealer_name, printed_on=printed_on
    )
    html = render_template(
        template_name,
        title=title,
        dealer_name=dealer_name,
        printed_on=printed_on,
        page_css=page_css,
        **context,
    )
    key = cache_key(html, page_size=page_size, landscape=landscape)
    cached = _cache_read(key)
    if cached is not None:
        return cached
    started = time.perf_counter()
    pdf = _write_pdf(html)
    elapsed = time.perf_counter() - started
    log.info("rendered %s (%s) in %.2f s, %d bytes", template_name, page_size, elapsed, len(pdf))
    _cache_write(key, pdf)
    return pdf


def _write_pdf(html: str) -> bytes:
    """HTML → PDF with WeasyPrint (the expensive step the cache avoids)."""
    from weasyprint import HTML

    fetcher = AssetFetcher.for_app(current_app)
    with _render_lock:
        document = HTML(string=html, base_url=ASSET_BASE_URL, url_fetcher=fetcher)
        return document.write_pdf(font_config=_shared_font_config())


def _shared_font_config():
    global _font_config
    if _font_config is None:
        from weasyprint.text.fonts import FontConfiguration

        _font_config = FontConfiguration()
    return _font_config


def font_face_css(static_folder: str | Path) -> str:
    """@font-face rules for the shipped Noto Sans SC, as file:// URLs the fetcher serves."""
    fonts = Path(static_folder) / "fonts"
    return "\n".join(
        f'@font-face {{ font-family: "{FONT_FAMILY}"; font-style: normal; font-weight: {weight}; '
        f'src: url("{(fonts / name).as_uri()}") format("truetype"); }}'
        for weight, name in FONT_FILES.items()
    )


def build_page_css(*, page_size: str, landscape: bool, title: str, dealer_name: str, printed_on: str) -> Markup:
    """@font-face and @page rules: size, margins, running header (title · dealer, print date) and page numbers."""
    header_left = css_string(title)
    if dealer_name:
        header_left += " " + css_string(f"  ·  {dealer_name}" if title else dealer_name)
    header_right = css_string(_("打印日期 %(date)s", date=printed_on))
    margin_box = f'font-family: "{FONT_FAMILY}"; font-size: 7.5pt; color: #52606d;'
    css = f"""
{font_face_css(current_app.static_folder)}
@page {{
  size: {page_size}{" landscape" if landscape else ""};
  margin: 15mm 12mm 13mm 12mm;
  @top-left {{ content: {header_left}; {margin_box} vertical-align: bottom; padding-bottom: 2mm; }}
  @top-right {{ content: {header_right}; {margin_box} vertical-align: bottom; padding-bottom: 2mm; }}
  @bottom-center {{ content: {page_number_content()}; {margin_box} vertical-align: top; padding-top: 2mm; }}
}}"""
    return Markup(css)


_PLACEHOLDER = re.compile(r"%\((page|pages)\)s")


def page_number_content() -> str:
    """The footer's CSS `content`: "第 N / M 页" in the user's language, N and M as page counters."""
    template = _("第 %(page)s / %(pages)s 页", page="%(page)s", pages="%(pages)s")
    parts = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        if match.start() > position:
            parts.append(css_string(template[position : match.start()]))
        parts.append(f"counter({match[1]})")
        position = match.end()
    if position < len(template):
        parts.append(css_string(template[position:]))
    return " ".join(parts)


def css_string(text: str) -> str:
    """`text` as a quoted CSS string; everything but letters, digits and spaces is hex-escaped.

    Hex escapes keep names with quotes, backslashes or `</style>` from ending the string or the
    stylesheet.
    """
    out = []
    for char in text:
        if char.isalnum() or char == " ":
            out.append(char)
        elif char in "\r\n\t\f":
            out.append(" ")
        else:
            out.append(f"\\{ord(char):x} ")
    return '"' + "".join(out) + '"'


# --- the URL fetcher --------------------------------------------------------------------------


class AssetRefused(PermissionError):
    """The printout asked for something outside the app's static files and uploads."""


class AssetFetcher:
    """Serves WeasyPrint the app's static files and uploads, and data: URLs; refuses everything else.

    Accepted: `/static/…` and `/uploads/…` relative URLs (they resolve against ASSET_ORIGIN),
    file:// URLs and absolute paths inside those folders. Paths are resolved (symlinks, `..`,
    %2e%2e) before the containment check. The PDF cache is never served, even inside uploads.

    WeasyPrint calls the fetcher with a URL and reads `_fail_on_errors` when it raises; it is not
    a subclass of weasyprint's URLFetcher so that importing this module does not import WeasyPrint.
    """

    _fail_on_errors = False  # a refused resource is skipped, the document still renders

    def __init__(self, roots: dict[str, Path], denied: tuple[Path, ...] = ()):
        self.roots = {prefix: Path(folder).resolve() for prefix, folder in roots.items()}
        self.denied = tuple(Path(folder).resolve() for folder in denied)

    @classmethod
    def for_app(cls, app) -> AssetFetcher:
        script_root = request.script_root if has_request_context() else ""
        static_prefix = (app.static_url_path or "/static").rstrip("/") + "/"
        roots = {static_prefix: Path(app.static_folder), UPLOADS_URL_PREFIX: Path(app.config["UPLOAD_FOLDER"])}
        if script_root:  # the app mounted under a prefix: url_for() includes it
            roots |= {script_root + prefix: folder for prefix, folder in list(roots.items())}
        return cls(roots, denied=(cache_dir(app),))

    def resolve(self, url: str) -> Path:
        """The local file `url` stands for; AssetRefused unless it lies inside an allowed folder."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "file":
            if parts.netloc not in ("", "localhost"):
                raise AssetRefused(f"refused remote file URL {url!r}")
            return self._inside_roots(Path(url2pathname(unquote(parts.path))), url)
        if scheme in ("http", "https") and f"{scheme}://{parts.netloc}" == ASSET_ORIGIN:
            path = unquote(parts.path)
            for prefix, folder in self.roots.items():
                if path.startswith(prefix):
                    return self._inside(folder, folder / path[len(prefix) :], url)
            return self._inside_roots(Path(path), url)  # an absolute file path written as src
        raise AssetRefused(f"refused {url!r}: printouts load only the app's own static files and uploads")

    def _inside_roots(self, path: Path, url: str) -> Path:
        for folder in self.roots.values():
            try:
                return self._inside(folder, path, url)
            except AssetRefused:
                continue
        raise AssetRefused(f"refused {url!r}: outside the static and upload folders")

    def _inside(self, folder: Path, path: Path, url: str) -> Path:
        resolved = path.resolve()
        if not resolved.is_relative_to(folder) or any(resolved.is_relative_to(d) for d in self.denied):
            raise AssetRefused(f"refused {url!r}: outside the static and upload folders")
        if not resolved.is_file():
            raise AssetRefused(f"refused {url!r}: no such file")
        return resolved

    def fetch(self, url: str, headers=None):
        """What WeasyPrint calls for every resource; raises (and logs) for refused URLs."""
        if url[:5].lower() == "data:":
            return _data_url(url)
        try:
            path = self.resolve(url)
        except AssetRefused as refusal:
            log.warning("PDF: %s", refusal)
            raise
        mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return _fetched(url, path.read_bytes(), mime_type, path.name)

    def __call__(self, url: str):
        return self.fetch(url)


def _fetched(url: str, body: bytes, mime_type: str, filename: str):
    """A fetch result in the form the installed WeasyPrint expects."""
    try:
        from weasyprint.urls import URLFetcherResponse
    except ImportError:  # pragma: no cover - WeasyPrint < 66 takes a dict
        return {"string": body, "mime_type": mime_type, "redirected_url": url, "filename": filename}
    return URLFetcherResponse(url, body=body, headers={"Content-Type": mime_type})


def _data_url(url: str):
    """Decode a data: URL (e.g. an image inlined as base64): `data:[<type>][;base64],<payload>`."""
    header, _comma, payload = url[5:].partition(",")
    is_base64 = header.lower().endswith(";base64")
    mime_type = header[: -len(";base64")] if is_base64 else header
    mime_type = mime_type.split(";")[0].strip() or "text/plain"
    body = unquote_to_bytes(payload)
    return _fetched(url, base64.b64decode(body) if is_base64 else body, mime_type, "")


# --- the cache --------------------------------------------------------------------------------


def cache_dir(app=None) -> Path:
    """PDF_CACHE_DIR, by default `<UPLOAD_FOLDER>/pdf-cache` (the app's writable data folder)."""
    app = app or current_app
    configured = app.config.get("PDF_CACHE_DIR")
    return Path(configured) if configured else Path(app.config["UPLOAD_FOLDER"]) / "pdf-cache"


def cache_key(html: str, *, page_size: str, landscape: bool) -> str:
    """sha256 of everything that decides the PDF's bytes."""
    from weasyprint import __version__ as weasyprint_version

    digest = hashlib.sha256(f"{CACHE_FORMAT}\n{weasyprint_version}\n{page_size}\n{landscape}\n".encode())
    digest.update(html.encode())
    return digest.hexdigest()


def _cache_read(key: str) -> bytes | None:
    try:
        return (cache_dir() / f"{key}.pdf").read_bytes()
    except OSError:
        return None


def _cache_write(key: str, pdf: bytes) -> None:
    """Store atomically (a reader never sees half a file); a full disk only costs the cache."""
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".part", delete=False) as handle:
            handle.write(pdf)
        os.replace(handle.name, folder / f"{key}.pdf")
    except OSError as error:
        log.warning("PDF cache not written: %s", error)
        return
    _prune(folder)


def _prune(folder: Path) -> None:
    """Drop entries older than a week (yesterday's printouts carry yesterday's date anyway)."""
    limit = time.time() - CACHE_MAX_AGE_SECONDS
    for entry in folder.iterdir():
        try:
            if entry.stat().st_mtime < limit:
                entry.unlink()
        except OSError:
            continue


# --- the response -----------------------------------------------------------------------------

_UNSAFE_FILENAME = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|]+')


def pdf_response(pdf: bytes, filename: str) -> Response:
    """A download of `pdf` named `filename` (Chinese survives through RFC 5987's filename*)."""
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Cache-Control"] = "private"
    return response


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the UTF-8 name, both free of quotes and slashes."""
    name = _UNSAFE_FILENAME.sub("_", filename).strip() or "document.pdf"
    if not name.lower().endswith(".pdf"):
        name += ".pdf"
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    fallback = re.sub(r"\s+", " ", fallback).strip(" -_.")
    if not fallback or fallback.lower() == "pdf" or not fallback.lower().endswith(".pdf"):
        fallback = "document.pdf"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"

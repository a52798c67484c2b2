"""Read PDFs the way a person's viewer does, with Debian's poppler-utils (pdftotext, pdfinfo, pdffonts…)."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path


def _run(tool: str, pdf: bytes, *args: str) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "document.pdf"
        path.write_bytes(pdf)
        result = subprocess.run([tool, *args, str(path)], capture_output=True, check=True, timeout=60)
        return result.stdout.decode()


def text(pdf: bytes, page: int | None = None, layout: bool = False) -> str:
    """The PDF's selectable text (one page, or all of them)."""
    args = ["-enc", "UTF-8"] + (["-layout"] if layout else [])
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "document.pdf"
        path.write_bytes(pdf)
        subprocess.run(["pdftotext", *args, str(path), str(path.with_suffix(".txt"))], check=True, timeout=60)
        return path.with_suffix(".txt").read_text()


def squeezed(value: str) -> str:
    """Text without whitespace: pdftotext spaces CJK and counters unpredictably."""
    return re.sub(r"\s+", "", value)


def info(pdf: bytes) -> dict[str, str]:
    """pdfinfo's fields: Pages, Page size, Title, Author…"""
    fields = {}
    for line in _run("pdfinfo", pdf).splitlines():
        key, _sep, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def page_size_mm(pdf: bytes) -> tuple[float, float]:
    """Width and height of the first page in millimetres, rounded to 0.1."""
    width, height = (float(v) for v in re.findall(r"[\d.]+", info(pdf)["Page size"])[:2])
    return round(width * 25.4 / 72, 1), round(height * 25.4 / 72, 1)


def fonts(pdf: bytes) -> list[dict[str, str]]:
    """pdffonts' rows: name, type, emb, sub, uni."""
    lines = _run("pdffonts", pdf).splitlines()[2:]
    rows = []
    for line in lines:
        parts = line.split()
        # name type… encoding emb sub uni objectID gen: read the flags from the right.
        rows.append({"name": parts[0], "emb": parts[-5], "sub": parts[-4], "uni": parts[-3]})
    return rows


def attachments(pdf: bytes) -> list[str]:
    """Names of the files embedded in the PDF (pdfdetach -list)."""
    lines = _run("pdfdetach", pdf, "-list").splitlines()
    return [line.split(":", 1)[1].strip() for line in lines[1:] if ":" in line]


def images(pdf: bytes) -> int:
    """How many raster images the PDF draws (pdfimages -list)."""
    return len(_run("pdfimages", pdf, "-list").splitlines()[2:])


def page_png(pdf: bytes, target: Path, dpi: int = 50, page: int = 1) -> Path:
    """Page `page` as a PNG at `dpi` (pdftoppm), written next to `target`; returns the PNG's path."""
    pdf_path = target.with_suffix(".pdf")
    pdf_path.write_bytes(pdf)
    prefix = target.with_suffix("")
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile", str(pdf_path)]
        + [str(prefix)],
        check=True,
        timeout=60,
    )
    return prefix.with_suffix(".png")

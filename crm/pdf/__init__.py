"""Printouts: one PDF engine (WeasyPrint, the shipped Noto Sans SC, a locked-down URL fetcher, a content cache),
a server-side SVG map, and the documents built on them (the city traffic map).

    from crm.pdf.engine import pdf_response, render_pdf
    from crm.pdf.svgmap import SvgPoint, SvgStore, render_svg_map
"""

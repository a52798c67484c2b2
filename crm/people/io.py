"""Import people from CSV/XLSX and export the filtered list to XLSX (masking applied by role)."""

from flask import Blueprint

bp = Blueprint("people_io", __name__, url_prefix="/people/io")

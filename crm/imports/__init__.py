"""Estate lists imported from listing sites' CSV/XLSX exports: mapping, preview, apply."""

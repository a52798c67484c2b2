"""Estates (楼盘) and floor plans (户型): the list, filters, forms and pipeline stages."""

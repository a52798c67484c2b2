"""Picking targets (圈定流量池): scoring estates and sizing the traffic pool against the sales target."""

"""The order pages run on a fixed day inside the test offer, whatever the clock says."""

from __future__ import annotations

import pytest

from tests.orders.helpers import TODAY


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr("crm.orders.views.local_today", lambda: TODAY)

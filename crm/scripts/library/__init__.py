"""The playbooks HQ ships with the product, so a store can start scripting a group on day one.

Each one is a JSON file beside this module, in the content shape of crm.scripts.content plus a
name and a one-line description: data to copy into a new playbook, not code to run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypedDict

SHIPPED_PLAYBOOKS = ("new_estate_self_built", "old_estate_wakeup")

_HERE = Path(__file__).parent


class ShippedPlaybook(TypedDict):
    name: str
    description: str
    content: dict


def load(slug: str) -> ShippedPlaybook:
    """One shipped playbook by slug; a KeyError names an unknown slug."""
    if slug not in SHIPPED_PLAYBOOKS:
        raise KeyError(slug)
    data = json.loads((_HERE / f"{slug}.json").read_text(encoding="utf-8"))
    return {
        "name": data["name"],
        "description": data["description"],
        "content": {"phases": data["phases"], "templates": data["templates"]},
    }

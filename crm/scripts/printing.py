"""A playbook as an A4 printout a store pins up: phase by phase, day by day, every script item and its intent."""

from __future__ import annotations

from crm.groups.models import AccountRole
from crm.scripts.content import (
    ScriptKind,
    asked_placeholders,
    item_count,
    roles_used,
    sorted_items,
    total_days,
)
from crm.scripts.placeholders import marked_placeholders


def playbook_pdf(name: str, version_label: str, dealer_name: str, content: dict) -> bytes:
    """The playbook as an A4 portrait PDF (needs an app context): each phase, each day's timed items, the templates."""
    from crm.pdf.engine import render_pdf

    return render_pdf(
        "pdf/playbook.html",
        page_size="A4",
        landscape=False,
        title=" · ".join(part for part in (name, version_label) if part),
        dealer_name=dealer_name,
        name=name,
        version_label=version_label,
        phases=printed_phases(content),
        templates=[
            {"name": template["name"], "text": marked_placeholders(template["text"])}
            for template in content.get("templates", [])
        ],
        day_total=total_days(content),
        item_total=item_count(content),
        roles=[role.label for role in roles_used(content)],
        asked=asked_placeholders(content),
    )


def printed_phases(content: dict) -> list[dict]:
    """Phases with their days numbered (within the phase and from the start) and items in time order, labelled."""
    phases = []
    day_from_start = 0
    for number, phase in enumerate(content["phases"], start=1):
        days = []
        for day_number, day in enumerate(phase["days"], start=1):
            day_from_start += 1
            items = [
                {
                    "time": item["time"],
                    "slot": item.get("slot", ""),
                    "role": item["role"],
                    "role_label": _label(AccountRole, item["role"]),
                    "kind_label": _label(ScriptKind, item["kind"]),
                    "text": marked_placeholders(item["text"]),
                    "intent": item.get("intent", ""),
                }
                for item in sorted_items(day["items"])
            ]
            days.append({"number": day_number, "from_start": day_from_start, "entries": items})
        goal = marked_placeholders(phase.get("goal", ""))
        phases.append({"number": number, "name": phase["name"], "goal": goal, "days": days})
    return phases


def _label(enum, value: str) -> str:
    try:
        return enum(value).label
    except ValueError:
        return value

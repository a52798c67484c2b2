"""The acceptance report (安装验收报告) as an A4 PDF: the five steps with who, when and the checklist, selected
photos, defects and their fixes, the owner's signature and the warranty terms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from crm.installs import queries
from crm.installs.models import InspectionAttempt, InspectionPhoto, InstallationJob, JobStatus, Step
from crm.installs.service import StepState, step_states

PHOTOS_PER_STEP = 3


@dataclass
class ReportStep:
    """A step as the report prints it: its state and the attempt that decided it (the passing one, else the last)."""

    state: StepState
    attempt: InspectionAttempt | None
    photos: list[InspectionPhoto]


def report_steps(job: InstallationJob) -> list[ReportStep]:
    """The five steps, each with its deciding attempt and up to PHOTOS_PER_STEP of that attempt's photos."""
    steps = []
    for state in step_states(job):
        attempt = state.passing or state.last
        photos = list(attempt.photos[:PHOTOS_PER_STEP]) if attempt else []
        steps.append(ReportStep(state, attempt, photos))
    return steps


def acceptance_pdf(session: Session, job: InstallationJob, today: date) -> bytes:
    """The job's acceptance report (needs an app context). Before acceptance it prints the progress so far."""
    from crm.pdf.engine import UPLOADS_URL_PREFIX, render_pdf

    order = job.order
    accepted = job.status == JobStatus.ACCEPTED
    warranty = queries.warranty_items(session, order.id) if accepted else []
    signed = next((a for a in reversed(job.attempts) if a.passed and a.step == Step.OWNER_ACCEPTANCE), None)
    owner = order.person
    return render_pdf(
        "pdf/acceptance.html",
        page_size="A4",
        landscape=False,
        title=_("安装验收报告 · %(owner)s", owner=owner.name) if owner else _("安装验收报告"),
        dealer_name=order.estate.dealer.name if order.estate else "",
        job=job,
        order=order,
        owner=owner,
        estate=order.estate,
        accepted=accepted,
        steps=report_steps(job),
        defects=list(job.defects),
        signature=signed,
        warranty=warranty,
        promises=list(order.offer.promises) if order.offer and not accepted else [],
        names=queries.user_names(session, job, warranty),
        today=today,
        uploads=UPLOADS_URL_PREFIX,
    )

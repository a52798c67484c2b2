"""The owner's proposal as a PDF to print in the store (staff only; registers on the proposals blueprint).

Import this module once before the app registers its blueprints (e.g. at the end of crm/proposals/views.py).
"""

from __future__ import annotations

from crm.core.models import local_today
from crm.core.roles import Permission, require
from crm.core.scoping import get_or_404
from crm.extensions import db
from crm.proposals.models import Proposal
from crm.proposals.views import bp


@bp.route("/<int:proposal_id>/print.pdf")
def print_pdf(proposal_id: int):
    """A4 portrait: cover and floor plan, images, product list with the group price, the offer and its promises."""
    proposal = get_or_404(Proposal, proposal_id)
    require(Permission.VIEW_PROPOSALS)
    from crm.pdf.engine import pdf_response
    from crm.proposals.printing import proposal_pdf

    return pdf_response(proposal_pdf(db.session, proposal, local_today()), f"{proposal.title}.pdf")

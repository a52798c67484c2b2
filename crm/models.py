"""Every model, imported in one place for Alembic and for relationship resolution."""

from crm.audit.models import AuditEntry
from crm.auth.models import LoginAttempt
from crm.core.submissions import FormSubmission
from crm.coverage.models import BaseDealRate, CoverageDecision, CoverageSettings, TerritoryAssignment
from crm.estates.models import City, Estate, FloorPlan
from crm.geocoding.models import GeocodeCacheEntry
from crm.groups.models import Group, GroupAccount, GroupFormulaCheck, GroupMetric
from crm.imports.models import EstateImport
from crm.installs.models import (
    Defect,
    InspectionAttempt,
    InspectionPhoto,
    InspectionStandard,
    InstallationJob,
    WarrantyClaim,
    WarrantyItem,
)
from crm.jobs.models import BackgroundJob
from crm.maps.models import TrafficMapSettings
from crm.offers.models import EarlyBird, GroupOffer, OfferTier, Product, RiskPromise
from crm.orders.models import Contract, Order, OrderItem, OrderStatusChange
from crm.org.models import Brand, Dealer, Store, User
from crm.people.models import Interaction, KeyPersonMove, Person, PersonStageChange
from crm.plans.models import BattlePlan, PhaseTemplate, PlanEstate, PlanPhase
from crm.proposals.models import Proposal, ProposalComment, ProposalConsent, ProposalImage, ProposalItem
from crm.scripts.models import (
    Playbook,
    PlaybookVersion,
    ScriptRun,
    ScriptRunDay,
    ScriptRunEvent,
    ScriptRunRole,
    ScriptTask,
)

__all__ = [
    "FormSubmission",
    "AuditEntry",
    "BackgroundJob",
    "BaseDealRate",
    "CoverageDecision",
    "CoverageSettings",
    "TerritoryAssignment",
    "OrderStatusChange",
    "OrderItem",
    "Order",
    "Contract",
    "WarrantyItem",
    "WarrantyClaim",
    "InstallationJob",
    "InspectionStandard",
    "InspectionPhoto",
    "InspectionAttempt",
    "Defect",
    "ProposalItem",
    "ProposalImage",
    "ProposalConsent",
    "ProposalComment",
    "Proposal",
    "RiskPromise",
    "Product",
    "OfferTier",
    "GroupOffer",
    "EarlyBird",
    "BattlePlan",
    "Brand",
    "City",
    "Dealer",
    "Estate",
    "EstateImport",
    "FloorPlan",
    "GeocodeCacheEntry",
    "Group",
    "GroupAccount",
    "GroupFormulaCheck",
    "GroupMetric",
    "Interaction",
    "KeyPersonMove",
    "LoginAttempt",
    "Person",
    "PersonStageChange",
    "PhaseTemplate",
    "PlanEstate",
    "PlanPhase",
    "Playbook",
    "PlaybookVersion",
    "ScriptRun",
    "ScriptRunDay",
    "ScriptRunEvent",
    "ScriptRunRole",
    "ScriptTask",
    "Store",
    "TrafficMapSettings",
    "User",
]

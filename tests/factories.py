"""Test data builders. They call the real services, so test data obeys the same rules as users' data."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, timedelta

from PIL import Image
from werkzeug.datastructures import FileStorage

from crm.core.roles import DEALER_ROLES, Role
from crm.core.scoping import unscoped
from crm.core.uploads import save_image
from crm.estates.models import EstateStage
from crm.estates.service import EstateFields, FloorPlanFields, add_floor_plan, create_estate
from crm.org.service import (
    DealerFields,
    StoreFields,
    create_dealer,
    create_store,
    create_user_unchecked,
    get_or_create_brand,
    get_or_create_city,
)


def png_bytes(width: int = 64, height: int = 48, color=(200, 80, 40)) -> bytes:
    """A real PNG image."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_with_gps_bytes() -> bytes:
    """A real JPEG carrying EXIF GPS tags (which uploads must strip)."""
    image = Image.new("RGB", (80, 60), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    gps = {1: "N", 2: (47.0, 21.0, 15.0), 3: "E", 4: (123.0, 55.0, 5.0)}
    exif[0x8825] = gps
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def file_storage(data: bytes, filename: str, content_type: str = "image/png") -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=filename, content_type=content_type)


@dataclass
class DealerWorld:
    code: str
    dealer_id: int
    dealer_name: str
    store_id: int
    store_name: str
    estate_id: int
    estate_name: str
    floor_plan_id: int
    floor_plan_name: str
    import_id: int = 0
    plan_id: int = 0
    plan_estate_id: int = 0
    phase_id: int = 0
    template_id: int = 0
    plan_title: str = ""
    group_id: int = 0
    person_id: int = 0
    account_id: int = 0
    interaction_id: int = 0
    playbook_id: int = 0
    playbook_name: str = ""
    playbook_image_name: str = ""
    run_id: int = 0
    task_id: int = 0
    product_id: int = 0
    product_name: str = ""
    offer_id: int = 0
    tier_id: int = 0
    early_bird_id: int = 0
    promise_id: int = 0
    proposal_id: int = 0
    proposal_title: str = ""
    proposal_image_id: int = 0
    proposal_item_id: int = 0
    comment_id: int = 0
    share_token: str = ""
    order_id: int = 0
    order_item_id: int = 0
    contract_id: int = 0
    cooperation_contract_id: int = 0
    job_id: int = 0
    attempt_id: int = 0
    photo_id: int = 0
    defect_id: int = 0
    warranty_item_id: int = 0
    claim_id: int = 0
    background_job_id: int = 0
    group_name: str = ""
    person_name: str = ""
    person_phone: str = ""
    usernames: dict[Role, str] = field(default_factory=dict)
    user_ids: dict[Role, int] = field(default_factory=dict)
    user_display_names: dict[Role, str] = field(default_factory=dict)

    @property
    def lead(self) -> str:
        return self.usernames[Role.DEALER_LEAD]

    def markers(self) -> list[str]:
        """Strings only this dealer's pages may show."""
        return [
            self.dealer_name,
            self.store_name,
            self.estate_name,
            self.floor_plan_name,
            self.plan_title,
            self.group_name,
            self.playbook_name,
            self.proposal_title,
            self.product_name,
            self.person_name,
            self.person_phone,
            f"{self.person_phone[:3]}****{self.person_phone[-4:]}",
            *self.user_display_names.values(),
            *self.usernames.values(),
        ]


@dataclass
class World:
    a: DealerWorld
    b: DealerWorld
    hq_admin: str
    hq_viewer: str
    city_ids: dict[str, int]


def make_estate_import(
    session,
    dealer_id: int,
    city_id: int,
    data: bytes = "小区名称,户数\n工厂花园,800\n".encode(),
    filename: str = "estates.csv",
    coord_system: str = "wgs84",
):
    """An uploaded (not yet applied) estate list; by default one row."""
    from crm.imports.service import create_import

    return create_import(
        session, dealer_id=dealer_id, city_id=city_id, coord_system=coord_system, filename=filename, data=data
    )


def make_plan(session, dealer_id: int, city_id: int, estate, title: str, starts_on=date(2027, 1, 4)):
    """A battle plan with one estate (phases from the default template)."""
    from crm.plans.service import PlanFields, add_estate, create_plan

    plan = create_plan(
        session,
        dealer_id,
        PlanFields(
            title=title, city_id=city_id, period="2027 Q1", starts_on=starts_on, ends_on=starts_on + timedelta(days=89)
        ),
    )
    add_estate(session, plan, estate)
    return plan


def _add_group_and_person(session, world, dealer_id: int, estate_id: int, marker: str) -> None:
    """An owner (phone 13800138xxx) in a self-built group of the dealer's estate, with an account and a chat."""
    from crm.groups.models import AccountRole, Group, GroupAccount, GroupMetric, GroupStatus
    from crm.people.models import Interaction, InteractionKind, Person

    person = Person(dealer_id=dealer_id, name=f"{marker}业主", phone=f"13800138{dealer_id:03d}", estate_id=estate_id)
    group = Group(dealer_id=dealer_id, estate_id=estate_id, name=f"{marker}业主群", status=GroupStatus.OPERATING)
    group.members.append(person)
    session.add_all([person, group])
    session.flush()
    account = GroupAccount(
        dealer_id=dealer_id, group_id=group.id, user_id=world.user_ids[Role.OPERATOR], role=AccountRole.MAIN_IP
    )
    interaction = Interaction(dealer_id=dealer_id, person_id=person.id, kind=InteractionKind.WECHAT, note="初次沟通")
    metric = GroupMetric(
        dealer_id=dealer_id, group_id=group.id, day=date(2026, 11, 20), members=120, owners=100, active_members=30
    )
    session.add_all([account, interaction, metric])
    session.flush()
    world.group_id, world.group_name = group.id, group.name
    world.person_id, world.person_name, world.person_phone = person.id, person.name, person.phone
    world.account_id, world.interaction_id = account.id, interaction.id


def build_dealer(session, brand, code: str, dealer_name: str, city, marker: str, password: str) -> DealerWorld:
    dealer = create_dealer(session, brand, DealerFields(code=code, name=dealer_name, city_id=city.id))
    store = create_store(
        session,
        dealer,
        StoreFields(
            name=f"{marker}门店", city_id=city.id, address="测试路 1 号", lat=city.center_lat, lng=city.center_lng
        ),
    )
    estate = create_estate(
        session,
        dealer.id,
        EstateFields(
            name=f"{marker}花园",
            city_id=city.id,
            district="测试区",
            households=1200,
            lat=city.center_lat,
            lng=city.center_lng,
            stage=EstateStage.TARGET,
        ),
    )
    floor_plan = add_floor_plan(
        session, estate, FloorPlanFields(name=f"{marker}户型"), image=file_storage(png_bytes(), "plan.png")
    )
    estate_import = make_estate_import(session, dealer.id, city.id)
    battle_plan = make_plan(session, dealer.id, city.id, estate, title=f"{marker}作战规划")
    item = battle_plan.estates[0]
    world = DealerWorld(
        code,
        dealer.id,
        dealer_name,
        store.id,
        store.name,
        estate.id,
        estate.name,
        floor_plan.id,
        floor_plan.name,
        import_id=estate_import.id,
        plan_id=battle_plan.id,
        plan_estate_id=item.id,
        phase_id=item.phases[0].id,
        template_id=battle_plan.template_id,
        plan_title=battle_plan.title,
    )
    for role in DEALER_ROLES:
        username = f"{code.lower()}_{role.value}"
        user = create_user_unchecked(session, username, password, role, dealer, display_name=f"{marker}{role.label}")
        world.usernames[role] = username
        world.user_ids[role] = user.id
        world.user_display_names[role] = user.display_name
    _add_group_and_person(session, world, dealer.id, estate.id, marker)
    _add_playbook_run(session, world, marker)
    _add_offer_and_proposal(session, world, marker)
    _add_order_and_installation(session, world, marker)
    _add_background_job(session, world, dealer.id, marker)
    return world


def _add_background_job(session, world, dealer_id: int, marker: str) -> None:
    """A finished background job of the dealer lead's, with its result file."""
    from crm.jobs.models import BackgroundJob, JobStatus
    from crm.jobs.registry import PDF_MIMETYPE, JobResult
    from crm.jobs.service import _store_result

    job = BackgroundJob(
        dealer_id=dealer_id,
        kind="plans.battle_pdf",
        params={"plan_id": world.plan_id},
        title=f"{marker}作战规划图",
        created_by_id=world.user_ids[Role.DEALER_LEAD],
        status=JobStatus.DONE,
        attempts=1,
        progress=100,
    )
    session.add(job)
    session.flush()
    result = JobResult(b"%PDF-1.4\n%%EOF\n", f"{marker}作战规划图.pdf", PDF_MIMETYPE)
    job.result_path, job.result_name, job.result_mimetype = _store_result(job, result), result.filename, PDF_MIMETYPE
    session.flush()
    world.background_job_id = job.id


def _add_order_and_installation(session, world, marker: str) -> None:
    """An order of the world's owner (安装中) with a line, a draft sales contract, a draft cooperation contract
    with the owner as key person, an installation job whose step 1 passed (with a photo) and whose step 2 found
    a defect (open: the job is in rework), and — for the isolation walk — a warranty item with a claim."""
    from decimal import Decimal

    from crm.installs.models import (
        Defect,
        InspectionAttempt,
        InspectionPhoto,
        InstallationJob,
        JobStatus,
        WarrantyClaim,
        WarrantyItem,
    )
    from crm.orders.models import Contract, ContractKind, Order, OrderItem, OrderStatus
    from crm.org.models import User

    order = Order(
        dealer_id=world.dealer_id,
        person_id=world.person_id,
        estate_id=world.estate_id,
        floor_plan_id=world.floor_plan_id,
        proposal_id=world.proposal_id,
        offer_id=world.offer_id,
        discount_percent=88,
        tier_note="满10户88折",
        deposit_amount=Decimal("500"),
        deposit_paid_on=date(2026, 11, 10),
        deposit_in_store=True,
        building="3",
        unit="2",
        room="1201",
        status=OrderStatus.INSTALLING,
    )
    order.items.append(
        OrderItem(
            dealer_id=world.dealer_id,
            product_id=world.product_id,
            name=f"{marker}木门",
            model="M-01",
            colour="胡桃色",
            unit="樘",
            quantity=Decimal("3"),
            list_price=Decimal("1980"),
            unit_price=Decimal("1742.40"),
        )
    )
    session.add(order)
    session.flush()
    sales = Contract(
        dealer_id=world.dealer_id,
        kind=ContractKind.SALES,
        order_id=order.id,
        person_id=world.person_id,
        title=f"{marker}销售合同",
        terms={"payment": "定金 500 元，余款安装前付清"},
    )
    cooperation = Contract(
        dealer_id=world.dealer_id,
        kind=ContractKind.COOPERATION,
        person_id=world.person_id,
        group_id=world.group_id,
        title=f"{marker}群主合作协议",
        starts_on=date(2026, 11, 1),
        ends_on=date(2027, 4, 30),
        terms={"results": [{"result": "群成员达到 300 人", "reward": "智能门锁一套"}]},
    )
    session.add_all([sales, cooperation])
    session.flush()
    sales.series_id, cooperation.series_id = sales.id, cooperation.id
    job = InstallationJob(
        dealer_id=world.dealer_id,
        order_id=order.id,
        scheduled_on=date(2026, 11, 20),
        building="3",
        unit="2",
        room="1201",
        status=JobStatus.INSPECTING,
    )
    job.installers.append(session.get(User, world.user_ids[Role.INSTALLER]))
    session.add(job)
    session.flush()
    first = InspectionAttempt(
        dealer_id=world.dealer_id,
        job_id=job.id,
        step=1,
        passed=True,
        performer_user_id=world.user_ids[Role.INSTALLER],
        checklist=[{"item": "门框垂直度", "passed": True, "note": ""}],
    )
    second = InspectionAttempt(
        dealer_id=world.dealer_id,
        job_id=job.id,
        step=2,
        passed=False,
        performer_user_id=world.user_ids[Role.CONSULTANT],
        checklist=[{"item": "门缝均匀", "passed": False, "note": "上缝偏大"}],
    )
    session.add_all([first, second])
    session.flush()
    photo = InspectionPhoto(
        dealer_id=world.dealer_id,
        attempt_id=first.id,
        path=save_image(file_storage(png_bytes(), "door.png"), f"inspections/{world.dealer_id}"),
        caption="门框",
    )
    defect = Defect(
        dealer_id=world.dealer_id, job_id=job.id, attempt_id=second.id, step=2, description=f"{marker}门缝偏大"
    )
    warranty = WarrantyItem(
        dealer_id=world.dealer_id,
        order_id=order.id,
        item="掉漆、门皮起翘、门框变形",
        years=5,
        remedy="免费维修",
        starts_on=date(2026, 11, 22),
        ends_on=date(2031, 11, 21),
    )
    session.add_all([photo, defect, warranty])
    session.flush()
    claim = WarrantyClaim(
        dealer_id=world.dealer_id, warranty_item_id=warranty.id, reported_on=date(2026, 11, 22), description="门皮起翘"
    )
    session.add(claim)
    session.flush()
    world.order_id, world.order_item_id = order.id, order.items[0].id
    world.contract_id, world.cooperation_contract_id = sales.id, cooperation.id
    world.job_id, world.attempt_id, world.photo_id, world.defect_id = job.id, first.id, photo.id, defect.id
    world.warranty_item_id, world.claim_id = warranty.id, claim.id


def _add_offer_and_proposal(session, world, marker: str) -> None:
    """A product, a group-buy offer with a tier, early bird and promise, and a shared personal proposal
    (with the owner's consent, an image, a product line and a neighbour's flaw) on the dealer's floor plan."""
    from decimal import Decimal

    from crm.estates.models import Estate
    from crm.offers.models import EarlyBird, GroupOffer, OfferTier, Product, ProductTier, RiskPromise
    from crm.org.models import User
    from crm.proposals import service as proposals
    from crm.proposals.models import ConsentChannel, ProposalKind

    product = Product(
        dealer_id=world.dealer_id,
        name=f"{marker}木门",
        model="M-01",
        colour="胡桃色",
        unit="樘",
        unit_price=Decimal("1980.00"),
        tier=ProductTier.BAIT,
    )
    offer = GroupOffer(
        dealer_id=world.dealer_id,
        estate_id=world.estate_id,
        title=f"{marker}团购",
        starts_on=date(2026, 11, 1),
        ends_on=date(2027, 1, 31),
        event_on=date(2026, 12, 12),
        store_gift="五金升级礼包",
        deposit_amount=Decimal("500.00"),
    )
    offer.tiers.append(OfferTier(dealer_id=world.dealer_id, min_deposits=10, discount_percent=88, note="10 户成团"))
    offer.early_birds.append(EarlyBird(dealer_id=world.dealer_id, first_n=20, benefit="前 20 名送智能门锁"))
    offer.promises.append(
        RiskPromise(dealer_id=world.dealer_id, item="掉漆、门皮起翘、门框变形", years=5, remedy="免费维修")
    )
    session.add_all([product, offer])
    session.flush()
    estate = session.get(Estate, world.estate_id)
    proposal = proposals.create_proposal(
        session,
        estate,
        proposals.ProposalFields(
            title=f"{marker}方案",
            floor_plan_id=world.floor_plan_id,
            kind=ProposalKind.PERSONAL,
            style="新中式",
            person_id=world.person_id,
            designer_id=world.user_ids[Role.DESIGNER],
        ),
    )
    image = proposals.add_image(session, proposal, save_image(file_storage(png_bytes(), "room.png"), "proposals"))
    item = proposals.add_item(session, proposal, proposals.ItemFields(product_id=product.id, quantity="3"))
    designer = session.get(User, world.user_ids[Role.DESIGNER])
    proposals.record_consent(session, proposal, designer, ConsentChannel.IN_STORE, "到店看图后同意")
    world.share_token = proposals.publish_share(session, proposal)
    comment = proposals.add_staff_comment(session, proposal, designer, "8栋-刘姐", "主卧衣柜挡窗", is_flaw=True)
    world.product_id, world.offer_id, world.tier_id = product.id, offer.id, offer.tiers[0].id
    world.early_bird_id, world.promise_id = offer.early_birds[0].id, offer.promises[0].id
    world.proposal_id, world.proposal_title = proposal.id, proposal.title
    world.proposal_image_id, world.proposal_item_id, world.comment_id = image.id, item.id, comment.id
    world.product_name = product.name


def _add_playbook_run(session, world, marker: str) -> None:
    """A published playbook (with a script image) the dealer's group runs on since yesterday: one task overdue."""
    from crm.core.models import local_today
    from crm.groups.models import AccountRole, Group
    from crm.org.models import User
    from crm.scripts import service
    from crm.scripts.content import new_key

    lead = session.get(User, world.user_ids[Role.DEALER_LEAD])
    item = {
        "key": new_key(),
        "time": "09:00",
        "slot": "早间巡查",
        "role": "main_ip",
        "kind": "topic",
        "text": f"{marker}剧本话术：欢迎来到{{群名}}",
        "intent": "",
        "images": [],
    }
    content = {
        "phases": [{"key": new_key(), "name": "铺垫期", "goal": "", "days": [{"items": [item]}, {"items": []}]}],
        "templates": [{"key": "welcome", "name": "入群欢迎语", "text": f"{marker}欢迎语"}],
    }
    playbook = service.create_playbook(session, lead, f"{marker}剧本", "", content)
    image = save_image(file_storage(png_bytes(), "script.png"), f"playbooks/{playbook.id}")
    service.add_item_image(session, playbook, item["key"], image)
    version = service.publish(session, lead, playbook)
    group = session.get(Group, world.group_id)
    roles = {AccountRole.MAIN_IP: world.user_ids[Role.OPERATOR]}
    yesterday = local_today() - timedelta(days=1)
    run = service.apply_playbook(session, lead, group, version, yesterday, roles, {}, today=yesterday)
    world.playbook_id, world.playbook_name, world.run_id = playbook.id, playbook.name, run.id
    world.task_id = run.days[0].tasks[0].id
    world.playbook_image_name = image.rsplit("/", 1)[1]


def build_world(session, password: str) -> World:
    with unscoped():
        brand = get_or_create_brand(session, "测试品牌")
        qqhr = get_or_create_city(session, "齐齐哈尔", "黑龙江省", 47.3543, 123.9182)
        cc = get_or_create_city(session, "长春", "吉林省", 43.8171, 125.3235)
        a = build_dealer(session, brand, "AAA", "甲经销商", qqhr, "甲方专属", password)
        b = build_dealer(session, brand, "BBB", "乙经销商", cc, "乙方专属", password)
        create_user_unchecked(session, "hq_admin", password, Role.HQ_ADMIN, None, "总部管理员")
        create_user_unchecked(session, "hq_viewer", password, Role.HQ_VIEWER, None, "总部查看员")
    return World(a=a, b=b, hq_admin="hq_admin", hq_viewer="hq_viewer", city_ids={"齐齐哈尔": qqhr.id, "长春": cc.id})

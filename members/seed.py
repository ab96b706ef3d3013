"""Demo members: Chinese names, regions and channels, joined over the last two years."""

from __future__ import annotations

import base64
import os
import random
import secrets
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from core.ids import new_public_id

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛艳瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽"
REGIONS = [
    ("广东", 14),
    ("江苏", 9),
    ("浙江", 9),
    ("山东", 7),
    ("上海", 7),
    ("北京", 7),
    ("四川", 6),
    ("河南", 5),
    ("湖北", 5),
    ("福建", 5),
    ("湖南", 4),
    ("安徽", 4),
    ("河北", 3),
    ("陕西", 3),
    ("重庆", 3),
    ("辽宁", 2),
    ("天津", 2),
    ("云南", 2),
    ("广西", 2),
    ("江西", 2),
    ("山西", 1),
    ("黑龙江", 1),
    ("吉林", 1),
    ("贵州", 1),
    ("新疆", 1),
]
CHANNELS = [("app", 38), ("mini_program", 27), ("web", 14), ("store", 12), ("h5", 6), ("partner", 3)]
OCCUPATIONS = ["", "", "工程师", "教师", "设计师", "学生", "医生", "销售", "自由职业", "公务员", "会计"]
BATCH = 5000


def _weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights, k=1)[0]


UTM = [
    ("", "", ""),
    ("", "", ""),
    ("wechat", "social", "friend_invite"),
    ("douyin", "video", "618_live"),
    ("baidu", "cpc", "brand"),
    ("xiaohongshu", "social", "new_member_gift"),
    ("sms", "crm", "double11"),
]
_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_TO_CODE = str.maketrans(_B32, "ABCDEFGH8JKLMN9PQRSTUVWXYZ234567")  # core.ids.new_code alphabet
_TO_ID = str.maketrans(_B32, "0123456789abcdefghjkmnpqrstvwxyz")  # core.ids.new_public_id alphabet


def _fast_code(length: int = 10) -> str:
    """Same alphabet and entropy as core.ids.new_code, ~20x faster for a million rows."""
    return base64.b32encode(os.urandom(10))[:length].decode().translate(_TO_CODE)


def _fast_member_id() -> str:
    return "m_" + base64.b32encode(os.urandom(10))[:16].decode().translate(_TO_ID)


REFERRAL_SHARE = 0.06  # members who joined with a friend's invite code
TICKET_SHARE = 0.003
TICKETS = [
    ("suggestion", "希望积分商城增加家居用品", "积分商城的商品太少了，希望增加一些家居用品。"),
    ("complaint", "快递太慢", "订单下单三天还没有发货。"),
    ("points", "订单积分没有到账", "上周的订单确认收货后积分没有到账。"),
    ("account", "手机号换了怎么办", "原来的手机号不用了，如何更换绑定手机？"),
    ("order", "退款进度查询", "申请退款一周了还没到账。"),
]


def seed_members(*, members: int, stdout, rng: random.Random) -> None:
    """Members in batches of 5,000 (bounded memory; fast enough for a million): referral codes,
    invite links to earlier members, registration sources, and a few feedback tickets."""
    from .models import RegistrationSource, Ticket, TicketStatusChange

    User = get_user_model()
    now = timezone.now()
    start = now - timedelta(days=730)
    created = 0
    base = User.objects.count()
    while created < members:
        size = min(BATCH, members - created)
        rows = []
        for i in range(size):
            n = base + created + i
            joined = start + timedelta(seconds=rng.randrange(0, 730 * 86400))
            gender = rng.choice(["male", "female", "female", ""])
            has_email = rng.random() < 0.35
            rows.append(
                User(
                    member_id=_fast_member_id(),
                    referral_code=_fast_code(),  # random, never repeated by a re-run
                    verification_level="contact",
                    phone=f"13{n:09d}",
                    email=f"member{n}@example.com" if has_email else None,
                    phone_verified_at=joined,
                    nickname=rng.choice(SURNAMES)
                    + rng.choice(GIVEN)
                    + (rng.choice(GIVEN) if rng.random() < 0.6 else ""),
                    birthday=date(rng.randint(1965, 2006), rng.randint(1, 12), rng.randint(1, 28))
                    if rng.random() < 0.7
                    else None,
                    gender=gender,
                    region=_weighted(rng, REGIONS),
                    occupation=rng.choice(OCCUPATIONS),
                    channel=_weighted(rng, CHANNELS),
                    date_joined=joined,
                    password="!" + secrets.token_urlsafe(15),  # unusable: demo members log in by SMS code
                )
            )
        for row in rows:
            if row.nickname and row.birthday and row.gender and row.region and row.occupation:
                row.profile_completed_at = row.date_joined
        User.objects.bulk_create(rows, batch_size=BATCH)
        if rows[0].pk is None:  # backends that do not return ids from bulk inserts
            pks = dict(User.objects.filter(phone__in=[r.phone for r in rows]).values_list("phone", "pk"))
            for row in rows:
                row.pk = row.id = pks[row.phone]
        referred = []
        for i in range(1, len(rows)):
            if rng.random() < REFERRAL_SHARE:
                rows[i].referred_by_id = rows[rng.randrange(i)].pk  # an existing row of this batch
                referred.append(rows[i])
        User.objects.bulk_update(referred, ["referred_by"], batch_size=1000)
        sources, tickets = [], []
        for row in rows:
            utm_source, utm_medium, utm_campaign = rng.choice(UTM)
            sources.append(
                RegistrationSource(
                    member_id=row.pk,
                    channel=row.channel,
                    utm_source=utm_source,
                    utm_medium=utm_medium,
                    utm_campaign=utm_campaign,
                    store_id=f"S{rng.randint(1, 120):03d}" if row.channel == "store" else "",
                    created_at=row.date_joined,
                )
            )
            if rng.random() < TICKET_SHARE:
                category, subject, body = rng.choice(TICKETS)
                opened = row.date_joined + timedelta(days=rng.randint(1, 60))
                tickets.append(
                    Ticket(
                        public_id=new_public_id("tkt", 12),
                        member_id=row.pk,
                        category=category,
                        subject=subject,
                        body=body,
                        priority="normal",
                        status=rng.choice(["open", "in_progress", "resolved", "closed"]),
                        sla_due_at=opened + timedelta(hours=72),
                        created_at=opened,
                        updated_at=opened,
                    )
                )
        RegistrationSource.objects.bulk_create(sources, batch_size=BATCH)
        if tickets:
            Ticket.objects.bulk_create(tickets)
            ids = dict(
                Ticket.objects.filter(public_id__in=[t.public_id for t in tickets]).values_list(
                    "public_id", "pk"
                )
            )
            TicketStatusChange.objects.bulk_create(
                TicketStatusChange(
                    ticket_id=ids[t.public_id], old_status="", new_status=t.status, created_at=t.created_at
                )
                for t in tickets
            )
        created += size
        if created % 50000 == 0 or created == members:
            stdout.write(f"  members: {created}/{members}")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # fresh statistics: the admin relies on row estimates
            for table in ("members_user", "members_registrationsource", "members_ticket"):
                cursor.execute(f"ANALYZE {table}")  # noqa: S608 - fixed table names

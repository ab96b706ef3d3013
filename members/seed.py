"""Demo members: Chinese names, regions and channels, joined over the last two years."""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from core.ids import random_string

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


def seed_members(*, members: int, stdout, rng: random.Random) -> None:
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
                    password="!" + random_string(20),  # unusable: demo members log in by SMS code
                )
            )
        User.objects.bulk_create(rows, batch_size=BATCH)
        created += size
        if created % 50000 == 0 or created == members:
            stdout.write(f"  members: {created}/{members}")

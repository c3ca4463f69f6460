"""The brands sold in China that the catalogue starts with, and how a typed name becomes a key.

Each entry is ``(id, name_zh, name_en, aliases, manufacturers)``. ``aliases`` are other names
people type (大众 = Volkswagen = VW); ``manufacturers`` are the makers a VIN's WMI names (as
``vininfo`` spells them: "BMW Brilliance", "FAW-Volkswagen") whose cars carry this brand. A
joint venture that builds several brands (SAIC General Motors: Buick, Chevrolet, Cadillac) is
listed under none, so its VINs never decide a brand. The migration seeds these rows; admins edit
them afterwards through the API, so this list is a starting point, not the truth.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple


class SeedBrand(NamedTuple):
    id: str
    name_zh: str
    name_en: str
    aliases: tuple[str, ...] = ()
    manufacturers: tuple[str, ...] = ()


SEED_BRANDS: tuple[SeedBrand, ...] = (
    SeedBrand("byd", "比亚迪", "BYD", ("比亚迪汽车", "BYD Auto"), ("BYD Auto",)),
    SeedBrand(
        "volkswagen",
        "大众",
        "Volkswagen",
        ("VW", "一汽-大众", "上汽大众", "大众汽车"),
        ("FAW-Volkswagen", "SAIC Volkswagen", "Volkswagen"),
    ),
    SeedBrand("bmw", "宝马", "BMW", ("华晨宝马",), ("BMW", "BMW Brilliance", "BMW M")),
    SeedBrand(
        "mercedes_benz",
        "奔驰",
        "Mercedes-Benz",
        ("梅赛德斯-奔驰", "北京奔驰", "Benz", "Mercedes"),
        ("Beijing Benz", "Mercedes-Benz"),
    ),
    SeedBrand("audi", "奥迪", "Audi", ("一汽奥迪", "上汽奥迪"), ("Audi",)),
    SeedBrand(
        "toyota",
        "丰田",
        "Toyota",
        ("一汽丰田", "广汽丰田"),
        ("Toyota", "FAW Toyota", "FAW Toyota (Tianjin)", "GAC Toyota"),
    ),
    SeedBrand(
        "honda",
        "本田",
        "Honda",
        ("广汽本田", "东风本田"),
        ("Honda", "Guangzhou Honda", "Dongfeng Honda"),
    ),
    SeedBrand("nissan", "日产", "Nissan", ("东风日产",), ("Nissan", "Dongfeng Nissan")),
    SeedBrand("buick", "别克", "Buick", ("上汽通用别克",), ("Buick", "Buick China")),
    SeedBrand("chevrolet", "雪佛兰", "Chevrolet", ("Chevy",), ("Chevrolet",)),
    SeedBrand("cadillac", "凯迪拉克", "Cadillac", (), ("Cadillac",)),
    SeedBrand("ford", "福特", "Ford", ("长安福特",), ("Ford", "Changan Ford")),
    SeedBrand("lincoln", "林肯", "Lincoln", (), ("Lincoln",)),
    SeedBrand("hyundai", "现代", "Hyundai", ("北京现代",), ("Hyundai", "Beijing Hyundai")),
    SeedBrand("kia", "起亚", "Kia", ("东风悦达起亚",), ("Kia", "Dongfeng Yueda Kia")),
    SeedBrand("mazda", "马自达", "Mazda", ("长安马自达",), ("Mazda", "Changan Mazda")),
    SeedBrand("lexus", "雷克萨斯", "Lexus", ("凌志",), ("Lexus",)),
    SeedBrand("porsche", "保时捷", "Porsche", (), ("Porsche",)),
    SeedBrand("volvo", "沃尔沃", "Volvo", ("沃尔沃亚太",), ("Volvo", "Volvo China")),
    SeedBrand("land_rover", "路虎", "Land Rover", ("捷豹路虎",), ("Land Rover",)),
    SeedBrand("jaguar", "捷豹", "Jaguar", (), ("Jaguar",)),
    SeedBrand("tesla", "特斯拉", "Tesla", (), ("Tesla", "Tesla China")),
    SeedBrand("geely", "吉利", "Geely", ("吉利汽车",), ("Geely",)),
    SeedBrand("changan", "长安", "Changan", ("长安汽车",), ("Changan",)),
    SeedBrand("great_wall", "长城", "Great Wall", ("长城汽车", "GWM"), ("Great Wall (Havel)",)),
    SeedBrand("haval", "哈弗", "Haval", ("哈佛",)),
    SeedBrand("chery", "奇瑞", "Chery", ("奇瑞汽车",), ("Chery",)),
    SeedBrand("gac_trumpchi", "广汽传祺", "GAC Trumpchi", ("传祺", "Trumpchi"), ("GAC Trumpchi",)),
    SeedBrand("hongqi", "红旗", "Hongqi", ("一汽红旗",)),
    SeedBrand("roewe", "荣威", "Roewe", ()),
    SeedBrand("mg", "名爵", "MG", ("MG Motor",), ("SAIC MG",)),
    SeedBrand("wuling", "五菱", "Wuling", ("上汽通用五菱",), ("SAIC GM Wuling",)),
    SeedBrand("nio", "蔚来", "NIO", ()),
    SeedBrand("xpeng", "小鹏", "XPeng", ("小鹏汽车", "Xiaopeng")),
    SeedBrand("li_auto", "理想", "Li Auto", ("理想汽车", "Lixiang")),
    SeedBrand("aito", "问界", "AITO", ("赛力斯问界",)),
    SeedBrand("xiaomi", "小米", "Xiaomi", ("小米汽车",)),
    SeedBrand("zeekr", "极氪", "Zeekr", ()),
    SeedBrand("lynk_co", "领克", "Lynk & Co", ("Lynk",)),
    SeedBrand("denza", "腾势", "Denza", ()),
    SeedBrand("leapmotor", "零跑", "Leapmotor", ("零跑汽车",)),
    SeedBrand("aion", "埃安", "AION", ("广汽埃安",)),
    SeedBrand("jac", "江淮", "JAC", ("江淮汽车",), ("JAC",)),
    SeedBrand(
        "dongfeng", "东风", "Dongfeng", ("东风风神", "Dongfeng Fengshen"), ("Dongfeng Fengshen",)
    ),
    SeedBrand("brilliance", "中华", "Brilliance", ("华晨中华",), ("Brilliance Zhonghua",)),
    SeedBrand("peugeot", "标致", "Peugeot", ("东风标致",), ("Peugeot",)),
    SeedBrand("citroen", "雪铁龙", "Citroën", ("Citroen", "东风雪铁龙"), ("Citroën", "Citroen")),
    SeedBrand("skoda", "斯柯达", "Škoda", ("Skoda",), ("Skoda", "Škoda")),
    SeedBrand("mini", "MINI", "MINI", ("迷你",), ("MINI",)),
    SeedBrand("infiniti", "英菲尼迪", "Infiniti", (), ("Infiniti",)),
    SeedBrand("jeep", "吉普", "Jeep", (), ("Jeep",)),
    SeedBrand("subaru", "斯巴鲁", "Subaru", (), ("Subaru",)),
    SeedBrand("mitsubishi", "三菱", "Mitsubishi", ("广汽三菱",), ("Mitsubishi",)),
)

_IGNORED = re.compile(r"[\s\-_.·・'’&/]+")


def name_key(name: str) -> str:
    """The form names are compared in: width-folded, case-folded, spaces and dashes dropped.

    "FAW-Volkswagen", "faw volkswagen" and "ＦＡＷ Volkswagen" share one key; "Citroën" keeps
    its accent (it is listed with and without it).
    """
    return _IGNORED.sub("", unicodedata.normalize("NFKC", name).casefold())

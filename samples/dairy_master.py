"""Master data of the dairy plant: materials, recipes, machines, parameters, parties, levers."""

from __future__ import annotations

import numpy as np

from zhuisu.samples.catalog_dairy import FILLER, PASTEURIZER, RECEIVER, TANK
from zhuisu.samples.faults import Lever
from zhuisu.samples.gs1 import gtin14
from zhuisu.samples.model import Machine, Param, units_of
from zhuisu.samples.names import CUSTOMER_PLACES, Company, companies
from zhuisu.samples.roster import Role

# (material id, name, category, uom)
RAW_MILK = ("RAW-MILK", "生牛乳", "raw", "kg")
SUGAR = ("SUGAR", "白砂糖（一级）", "raw", "kg")
POWDER = ("POWDER", "全脂乳粉", "raw", "kg")
PACKAGING = ("PACK-GT", "屋顶盒纸基复合包材", "packaging", "ea")
SILO_MILK = ("SILO-MILK", "奶仓原奶", "semi", "kg")
PAST_MILK = ("PAST-MILK", "巴氏杀菌乳（半成品）", "semi", "kg")
BLEND = ("BLEND", "配料液", "semi", "kg")

# (product id, name, GTIN item reference, litres per pack, sugar share, powder share, fat lower limit g/100g,
#  typical fat, share of output)
PRODUCTS = (
    ("CM250", "鲜牛奶 250mL", 201, 0.25, 0.0, 0.0, 3.1, 3.6, 0.5),
    ("FW250", "草莓风味牛奶 250mL", 202, 0.25, 0.06, 0.0, 2.5, 3.0, 0.3),
    ("TZ200", "调制乳 200mL", 203, 0.20, 0.06, 0.03, 2.5, 3.1, 0.2),
)
GTINS = {p[0]: gtin14(p[2]) for p in PRODUCTS}
# Finished goods are materials too (the lots table names a material), uncategorised: formats.md has no
# "finished" category.
MATERIALS = (RAW_MILK, SUGAR, POWDER, PACKAGING, SILO_MILK, PAST_MILK, BLEND) + tuple(
    (p[0], p[1], "", "ea") for p in PRODUCTS
)

SUPPLY = {
    RAW_MILK[0]: (
        (
            ("呼和浩特", "华北"),
            ("锡林郭勒", "华北"),
            ("石家庄", "华北"),
            ("张家口", "华北"),
            ("银川", "西北"),
        ),
        ("牧业有限公司", "生态牧场", "奶牛养殖专业合作社"),
        5,
    ),
    SUGAR[0]: ((("南宁", "华南"), ("柳州", "华南")), ("糖业有限公司",), 2),
    POWDER[0]: ((("哈尔滨", "东北"), ("齐齐哈尔", "东北")), ("乳业有限公司", "乳品有限公司"), 2),
    PACKAGING[0]: ((("佛山", "华南"), ("昆山", "华东")), ("包装材料有限公司", "纸业有限公司"), 2),
}
CUSTOMER_TRADES = ("商贸有限公司", "食品经销部", "超市连锁有限公司", "乳品配送中心", "副食品批发部")
CARRIERS = ("冷链自有车队", "顺丰冷运", "京东冷链", "荣庆冷链")

# One filling operator looks after two fillers.
ROLES = (Role("rcv", "收奶", 2), Role("past", "巴氏杀菌", 2), Role("mix", "配料", 2), Role("fill", "灌装", 2))
BASE_RATES = {"D-MICRO": 0.012, "D-FAT": 0.010}
LEVERS = (
    Lever("bad_supplier_lot", POWDER[0], "D-FAT", "乳粉脂肪含量低于标称值"),
    Lever("bad_supplier_lot", SUGAR[0], "D-MICRO", "储运受潮、微生物超标"),
    Lever("bad_supplier_lot", PACKAGING[0], "D-MICRO", "包材复合层有针孔、密封不良"),
    Lever("drift_after_maintenance", "past", "D-MICRO", "", "PAST.temp", -3.5),
    Lever("drift_after_maintenance", "fill", "D-MICRO", "", "FILL.h2o2", -5.0),
    Lever("param_window", "PAST.temp", "D-MICRO", "蒸汽压力不足", shift=-4.0),
    Lever("param_window", "PAST.hold", "D-MICRO", "流量调节过大、保持时间不足", shift=-2.5),
    Lever("param_window", "FILL.h2o2", "D-MICRO", "双氧水补加系统故障", shift=-6.0),
    Lever("operator_shift", "fill", "D-MICRO", "无菌仓清洗消毒不到位"),
    Lever("operator_shift", "mix", "D-FAT", "标准化配料比例调错、乳粉投料不足"),
)


def machines() -> list[Machine]:
    """The site → area → line → work center → machine hierarchy."""
    tree = [
        Machine("SJZ-PLANT", "石家庄乳品厂", "Site", ""),
        Machine("AREA-RCV", "收奶区", "Area", "SJZ-PLANT"),
        Machine("AREA-PROC", "加工车间", "Area", "SJZ-PLANT"),
        Machine("AREA-FILL", "灌装车间", "Area", "SJZ-PLANT"),
        Machine("LINE-RCV", "收奶线", "Line", "AREA-RCV"),
        Machine("LINE-PROC", "杀菌配料线", "Line", "AREA-PROC"),
        Machine("LINE-FILL", "灌装线", "Line", "AREA-FILL"),
        Machine("WC-RCV", "收奶工段", "WorkCenter", "LINE-RCV"),
        Machine("WC-PAST", "巴氏杀菌工段", "WorkCenter", "LINE-PROC"),
        Machine("WC-MIX", "配料工段", "WorkCenter", "LINE-PROC"),
        Machine("WC-FILL", "灌装工段", "WorkCenter", "LINE-FILL"),
    ]
    return (
        tree
        + units_of("RCV", 2, RECEIVER, "WC-RCV")
        + units_of("PAST", 2, PASTEURIZER, "WC-PAST")
        + units_of("TANK", 4, TANK, "WC-MIX")
        + units_of("FILL", 4, FILLER, "WC-FILL")
    )


def params() -> dict[str, Param]:
    """Measured process parameters with their specs."""
    return {
        p.id: p
        for p in (
            Param("RCV.temp", "收奶温度", "℃", 4.0, 0.0, 6.0, 0.6, "rcv", "WC-RCV", ("", "R-T01"), 1),
            Param("PAST.temp", "杀菌温度", "℃", 80.0, 78.0, 85.0, 0.5, "past", "WC-PAST", ("S-T01", "S-T03"), 1),
            Param("PAST.hold", "保持时间", "s", 16.0, 15.0, 20.0, 0.25, "past", "WC-PAST", ("S-F01", ""), 1),
            Param("MIX.temp", "配料温度", "℃", 5.0, 2.0, 8.0, 0.7, "mix", "WC-MIX", ("", "M-T01"), 1),
            Param(
                "FILL.h2o2",
                "双氧水浓度",
                "%",
                33.0,
                30.0,
                38.0,
                0.7,
                "fill",
                "WC-FILL",
                ("F-H01", "F-H02"),
                1,
            ),
        )
    }


def parties(rng: np.random.Generator) -> tuple[list[Company], dict[str, np.ndarray], list[Company]]:
    """Suppliers (farms, sugar, powder, packaging) with each material's supplier indices; distributors."""
    used: set[str] = set()
    suppliers: list[Company] = []
    by_material: dict[str, np.ndarray] = {}
    for material, (places, trades, count) in SUPPLY.items():
        by_material[material] = np.arange(len(suppliers), len(suppliers) + count)
        suppliers += companies(rng, places, trades, count, used)
    return suppliers, by_material, companies(rng, CUSTOMER_PLACES, CUSTOMER_TRADES, 15, used)

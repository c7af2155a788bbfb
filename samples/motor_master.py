"""Master data of the motor assembly plant: materials, products, machines, parameters, people and levers."""

from __future__ import annotations

import numpy as np

from zhuisu.samples.catalog import OVEN, PACKER, PRESS, SCREWER, TESTER, WINDER
from zhuisu.samples.faults import Lever
from zhuisu.samples.gs1 import gtin14
from zhuisu.samples.model import Machine, Param, units_of
from zhuisu.samples.names import CUSTOMER_PLACES, Company, companies
from zhuisu.samples.roster import Role

# (material id, name, category, uom, quantity per use); a use is one rotor, unit or stator.
BEARING = ("BRG-6204", "深沟球轴承 6204-2RS", "raw", "ea", 2.0)
MAGNET = ("MAG-N42SH", "钕铁硼磁钢 N42SH", "raw", "ea", 8.0)
WIRE = ("WIRE-QZY", "漆包线 QZY-2/180 Φ0.75mm", "raw", "kg", 0.62)
VARNISH = ("VARN-H", "H级浸渍绝缘漆", "raw", "L", 0.08)
HOUSING = ("HSG-80", "铝合金机壳 80机座", "raw", "ea", 1.0)
STATOR_WOUND = ("STATOR-W", "绕线定子", "semi", "ea", 1.0)
STATOR_VARNISHED = ("STATOR-V", "浸漆定子", "semi", "ea", 1.0)
MATERIALS = (BEARING, MAGNET, WIRE, VARNISH, HOUSING, STATOR_WOUND, STATOR_VARNISHED)

# (product id, name, GTIN item reference or 0 for internal items, units per pallet, share of output)
PRODUCTS = (
    ("PM80-075", "永磁同步电机 0.75kW", 101, 48, 0.45),
    ("PM80-110", "永磁同步电机 1.1kW", 102, 48, 0.35),
    ("PM90-150", "永磁同步电机 1.5kW", 103, 36, 0.20),
)
ROTOR = ("RT-80", "转子组件 80机座")
GTINS = {pid: gtin14(ref) for pid, _, ref, _, _ in PRODUCTS}

# Supplier towns and trades per material, and how many suppliers each material has.
SUPPLY = {
    BEARING[0]: (
        (("瓦房店", "东北"), ("洛阳", "华中"), ("常州", "华东"), ("慈溪", "华东")),
        ("轴承有限公司", "精密轴承有限公司"),
        3,
    ),
    MAGNET[0]: (
        (("宁波", "华东"), ("包头", "华北"), ("赣州", "华中")),
        ("磁业有限公司", "稀土永磁材料有限公司"),
        3,
    ),
    WIRE[0]: (
        (("铜陵", "华东"), ("无锡", "华东"), ("常州", "华东")),
        ("电工材料有限公司", "线缆有限公司"),
        2,
    ),
    VARNISH[0]: ((("苏州", "华东"), ("天津", "华北")), ("绝缘材料有限公司", "化工有限公司"), 2),
    HOUSING[0]: (
        (("台州", "华东"), ("温岭", "华东"), ("泰州", "华东")),
        ("压铸有限公司", "机电配件有限公司"),
        2,
    ),
}
CUSTOMER_TRADES = (
    "电器有限公司",
    "泵业有限公司",
    "风机制造有限公司",
    "机电设备有限公司",
    "五金机电经销部",
    "自动化科技有限公司",
    "空调设备有限公司",
)
CARRIERS = ("顺丰快运", "德邦物流", "中通快运", "安能物流", "客户自提")

ROLES = (
    Role("wind", "绕线", 3),
    Role("varnish", "浸漆", 2),
    Role("press", "压装", 4),
    Role("assy", "总装", 4),
    Role("eol", "EOL测试", 2),
    Role("pack", "装箱", 1),
)


def machines() -> list[Machine]:
    """The site → area → line → work center → machine hierarchy."""
    site = [
        Machine("NB-PLANT", "宁波电机工厂", "Site", ""),
        Machine("AREA-ST", "定子车间", "Area", "NB-PLANT"),
        Machine("AREA-AS", "总装车间", "Area", "NB-PLANT"),
        Machine("LINE-ST", "定子线", "Line", "AREA-ST"),
        Machine("LINE-AS", "总装线", "Line", "AREA-AS"),
    ]
    centers = [
        Machine("WC-WIND", "绕线工段", "WorkCenter", "LINE-ST"),
        Machine("WC-VARN", "浸漆工段", "WorkCenter", "LINE-ST"),
        Machine("WC-PRESS", "转子压装工段", "WorkCenter", "LINE-AS"),
        Machine("WC-ASSY", "总装工段", "WorkCenter", "LINE-AS"),
        Machine("WC-EOL", "EOL测试工段", "WorkCenter", "LINE-AS"),
        Machine("WC-PACK", "包装工段", "WorkCenter", "LINE-AS"),
    ]
    return (
        site
        + centers
        + units_of("WIND", 3, WINDER, "WC-WIND")
        + units_of("OVEN", 2, OVEN, "WC-VARN")
        + units_of("PRESS", 4, PRESS, "WC-PRESS")
        + units_of("ASSY", 4, SCREWER, "WC-ASSY")
        + units_of("EOL", 2, TESTER, "WC-EOL")
        + units_of("PACK", 1, PACKER, "WC-PACK")
    )


def params() -> dict[str, Param]:
    """Measured process parameters with their specs (the alarm codes come from the machines' catalogs)."""
    return {
        p.id: p
        for p in (
            Param("PRESS.force", "压装力", "kN", 12.0, 10.5, 13.5, 0.35, "press", "WC-PRESS", ("E102", "E101")),
            Param(
                "PRESS.depth",
                "压装深度",
                "mm",
                25.0,
                24.8,
                25.2,
                0.04,
                "press",
                "WC-PRESS",
                ("E105", "E105"),
                3,
            ),
            Param("ASSY.torque", "端盖螺栓扭矩", "N·m", 8.0, 7.2, 8.8, 0.18, "assy", "WC-ASSY", ("A21", "A21")),
            Param(
                "OVEN.temp",
                "烘箱温度",
                "℃",
                150.0,
                145.0,
                155.0,
                1.2,
                "varnish",
                "WC-VARN",
                ("T02", "T01"),
                1,
            ),
            Param("OVEN.time", "烘焙时间", "min", 180.0, 170.0, 200.0, 2.5, "varnish", "WC-VARN", decimals=1),
            Param("WIND.tension", "绕线张力", "N", 12.0, 10.0, 14.0, 0.4, "wind", "WC-WIND", ("W12", "W12")),
        )
    }


LEVERS = (
    Lever("bad_supplier_lot", BEARING[0], "E-NOISE", "轴承游隙超差、滚道有磕伤"),
    Lever("bad_supplier_lot", MAGNET[0], "E-VIB", "磁钢磁通一致性差"),
    Lever("bad_supplier_lot", HOUSING[0], "E-VIB", "机壳止口同轴度超差"),
    Lever("bad_supplier_lot", WIRE[0], "E-INSUL", "漆膜针孔偏多"),
    Lever("bad_supplier_lot", VARNISH[0], "E-INSUL", "绝缘漆固含量偏低"),
    Lever("drift_after_maintenance", "press", "E-NOISE", "", "PRESS.force", 1.8),
    Lever("drift_after_maintenance", "varnish", "E-INSUL", "", "OVEN.temp", -9.0),
    Lever("drift_after_maintenance", "assy", "E-VIB", "", "ASSY.torque", -0.9),
    Lever("param_window", "PRESS.force", "E-NOISE", "车间气源压力不足", shift=-2.2),
    Lever("param_window", "OVEN.temp", "E-INSUL", "导热油炉供热不足", shift=-10.0),
    Lever("param_window", "ASSY.torque", "E-VIB", "拧紧程序参数被误改", shift=-1.0),
    Lever("operator_shift", "assy", "E-VIB", "端盖装配不到位、螺栓未按顺序拧紧"),
    Lever("operator_shift", "press", "E-NOISE", "转子放置偏斜、压装对中不良"),
    Lever("operator_shift", "wind", "E-INSUL", "未按规程调整张力、刮伤漆膜"),
)
BASE_RATES = {"E-NOISE": 0.014, "E-VIB": 0.011, "E-INSUL": 0.011}


def parties(rng: np.random.Generator) -> tuple[list[Company], dict[str, np.ndarray], list[Company]]:
    """Suppliers (with each material's supplier indices), and customers."""
    used: set[str] = set()
    suppliers: list[Company] = []
    by_material: dict[str, np.ndarray] = {}
    for material, (places, trades, count) in SUPPLY.items():
        by_material[material] = np.arange(len(suppliers), len(suppliers) + count)
        suppliers += companies(rng, places, trades, count, used)
    return suppliers, by_material, companies(rng, CUSTOMER_PLACES, CUSTOMER_TRADES, 15, used)

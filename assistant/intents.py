"""Question understanding: an intent from cue-word sets weighed with the slots present, never a fixed phrasing."""

from __future__ import annotations

import re
from dataclasses import dataclass

from zhuisu.assistant.slots import Slots

INTENTS = {
    "fault_history": "设备故障历史（如：3号压装机最近有哪些故障？）",
    "fix": "某个故障现象怎么处理（如：加热管烧断怎么处理？）",
    "causes": "某类设备某个现象的可能原因（如：拧紧机拧紧NG一般是什么原因？）",
    "parts": "维修用过哪些备件（如：3号绕线机换过哪些备件？）",
    "last_done": "某项维修上次是什么时候做的（如：上次更换加热管是什么时候？）",
    "who": "谁修的（如：2号绕线机上次是谁修的？）",
    "downtime": "停机时间统计（如：上个月哪台设备停机时间最长？）",
    "supplier": "追溯供应商（如：SN-M2311-00042 用的轴承是哪个供应商的？）",
    "materials": "批次/产品用了哪些原料（如：批次 VS2310-0001 用了哪些原料？）",
    "where_went": "批次流向哪些客户（如：CG2311-0020 这批机壳流向了哪些客户？）",
    "similar": "相似的历史维修案例（如：以前有没有遇到过烘箱升温慢的情况？）",
}

# cue words per intent, with weights; matched on the normalised question
CUES: dict[str, dict[str, float]] = {
    "fault_history": {"故障": 2, "问题": 1.5, "毛病": 2, "坏": 1.5, "报警": 1.5, "维修记录": 3, "维修历史": 3,
                      "历史": 1, "修过": 1.5, "出过": 1.5, "异常": 1, "记录": 1, "情况": 1, "状况": 1,
                      "保养记录": 3, "维保": 1.5, "出了什么事": 2, "工单": 1.5, "哪些": 0.5},
    "fix": {"怎么处理": 3, "如何处理": 3, "怎么办": 3, "怎么解决": 3, "如何解决": 3, "怎么修": 3, "如何修": 3,
            "处理方法": 3, "解决办法": 3, "解决方法": 3, "咋办": 3, "咋整": 3, "怎么弄": 3, "如何排除": 3,
            "怎么排除": 3, "维修方法": 3, "措施": 2, "该怎么": 2, "处理办法": 3, "怎么搞": 3, "如何应对": 3,
            "怎么处置": 3, "咋处理": 3, "咋修": 3, "一般怎么": 2, "修好": 1.5, "搞定": 1.5, "办法": 1.5},
    "causes": {"原因": 3, "为什么": 3, "为啥": 3, "什么导致": 3, "导致": 1.5, "引起": 2, "造成": 2, "怎么回事": 2.5,
               "根因": 3, "咋回事": 2.5, "起因": 3, "由于什么": 3, "什么引起": 3, "怎么会": 2},
    "parts": {"备件": 3, "配件": 3, "零件": 3, "备品": 3, "更换件": 3, "换了什么": 3, "换过什么": 3, "用了什么件": 3,
              "哪些件": 3, "料号": 2, "换过哪些": 3, "换了哪些": 3, "换的什么": 3, "换了啥": 3, "零部件": 3,
              "什么件": 3, "耗材": 2},
    "last_done": {"上次": 2, "上一次": 2, "最近一次": 2, "最后一次": 2, "什么时候": 2.5, "何时": 2.5, "哪天": 2.5,
                  "几号": 2, "多久": 1.5, "啥时候": 2.5, "哪一天": 2.5, "时间": 0.5, "日期": 2},
    "who": {"谁": 3.5, "哪位": 3.5, "哪个师傅": 3.5, "技术员": 2.5, "维修工": 2.5, "负责人": 2.5, "哪个人": 3.5,
            "师傅": 1.5, "人员": 1.5, "经手": 2.5},
    "downtime": {"停机": 3, "停线": 3, "停产": 3, "宕机": 3, "停了多久": 4, "停机时间": 4, "停机时长": 4,
                 "停了": 2, "停多久": 4, "耽误": 2, "影响生产": 2, "downtime": 4},
    "supplier": {"供应商": 4, "厂家": 3.5, "哪家": 3, "供货": 3, "谁供": 3, "来自哪": 3, "产地": 2.5, "哪个厂": 3,
                 "谁家": 3, "哪里买": 3, "采购自": 3, "生产商": 3, "供方": 3, "牌子": 2, "供的": 3, "提供": 2.5,
                 "来自": 2.5, "谁供应": 3},
    "materials": {"原料": 3.5, "原材料": 3.5, "物料": 3, "材料": 3, "用了哪些": 2, "组成": 2, "用料": 3,
                  "投料": 3, "哪些批次": 2.5, "上游": 2.5, "用了什么": 2, "由什么": 2, "bom": 3, "零部件批次": 3,
                  "哪些料": 3, "什么料": 3, "做的": 1.5, "做成": 1.5},
    "where_went": {"流向": 4, "发给": 3.5, "发到": 3.5, "卖给": 3.5, "去哪": 3.5, "去向": 4, "哪些客户": 4,
                   "客户": 2.5, "发货": 2.5, "下游": 3, "出货": 3, "流到": 4, "影响了哪些": 3, "波及": 3,
                   "去了哪": 3.5, "发往": 3.5, "用户": 1.5, "召回": 3, "到了哪": 3},
    "similar": {"类似": 3.5, "相似": 3.5, "以前有没有": 3.5, "遇到过": 3, "案例": 3.5, "同样的": 2.5,
                "有没有过": 3, "之前出现过": 3, "出现过": 2, "历史案例": 4, "碰到过": 3, "发生过": 2.5,
                "差不多的": 2.5, "以前": 1, "之前": 1, "先例": 3.5},
}

# questions zhuisu cannot answer from records: predictions, opinions, prices, the world outside the plant
OUT_OF_SCOPE = re.compile(
    r"明年|下个?月|下周|明天|将来|未来|预测|会不会坏|会坏吗|寿命还有|还能用多久|价格|多少钱|价钱|成本|报价|工资|天气|股票|"
    r"新闻|笑话|写一?首|写诗|翻译|你是谁|你叫什么|几点了|吃什么|电影|足球|密码|账号|登录|删除|清空|drop\s|delete\s|"
    r"insert\s|update\s|select\s|推荐|哪个好|应该买|怎么评价|政治|总统")


@dataclass(frozen=True, slots=True)
class Understanding:
    """The chosen intent, how sure the choice is, and every intent's score (for explaining a refusal)."""

    intent: str | None
    score: float
    scores: dict[str, float]
    out_of_scope: bool = False


def classify(slots: Slots, *, previous: str | None = None) -> Understanding:
    """The intent of a question whose slots are ``slots``; ``previous`` is the last turn's intent."""
    t = slots.text
    if OUT_OF_SCOPE.search(t):
        return Understanding(None, 0.0, {}, out_of_scope=True)
    scores = {name: sum(w for cue, w in cues.items() if cue in t) for name, cues in CUES.items()}
    cued = dict(scores)  # what the words alone say, before the slots weigh in
    traced = any(kind not in ("SparePart", "Component") for _uid, kind in slots.items)  # a lot, unit, shipment…
    has_item = bool(traced or slots.unknown_ids or slots.ambiguous_ids)
    has_machine = bool(slots.equipment or slots.equipment_type or slots.candidates)
    symptom = bool(slots.of("Symptom"))
    action = bool(slots.of("Action")) or bool(re.search(r"保养|校准|标定|维修|换", t))
    # slot evidence: what each intent needs present
    if slots.supplier_word:  # 哪个牧场, 哪家糖业
        scores["supplier"] += 2.5
    if has_item:
        for name in ("supplier", "materials", "where_went"):
            scores[name] += 1.0
        if slots.materials and not scores["where_went"] and not scores["materials"]:
            scores["supplier"] += 0.5
        for name in ("fix", "causes", "similar", "fault_history"):
            scores[name] -= 2.0
    else:
        if not slots.pronoun:
            scores["supplier"] -= 2.0 if not slots.materials else 0
            scores["materials"] -= 2.0
        if slots.materials and ("这批" in t or "该批" in t or "那批" in t):
            scores["where_went"] += 1.0
    if has_machine:
        scores["fault_history"] += 1.0
        scores["downtime"] += 0.5
    if symptom:
        for name in ("fix", "causes", "similar"):
            scores[name] += 0.5
    if scores["who"] > 0 and re.search(r"修|处理|维修|保养|干|做|换|弄|负责|校准", t):
        scores["who"] += 2.0
    if scores["last_done"] > 0 and action:
        scores["last_done"] += 1.0
    if scores["last_done"] > 0 and scores["who"] >= 3:
        scores["last_done"] -= 2.0  # 上次是谁修的: a who question about the last repair
    if cued["downtime"] > 0:
        scores["fault_history"] -= 1.0
        scores["last_done"] -= 1.0
    if scores["parts"] > 0:
        scores["last_done"] -= 1.0
        scores["fault_history"] -= 1.0
    if scores["where_went"] >= 3.5:
        scores["materials"] -= 1.5
        scores["supplier"] -= 1.0
    if cued["similar"] > 0 and scores["fix"] < 1.5:
        scores["fault_history"] -= 1.0 if has_machine else 2.5
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], list(CUES).index(kv[0])))
    best, score = ranked[0]
    if score < 1.5:
        cue_less = previous is not None and (slots.equipment or slots.items or slots.of("Symptom")) and \
            re.search(r"呢[?？]?$|那|还有|再看|换成", t)
        if cue_less:
            return Understanding(previous, score, scores)
        if symptom and not has_item and re.search(r"[?？吗]|了$|怎么|咋", t) is None and len(t) > 6:
            return Understanding("similar", score, scores)  # a bare symptom description: find like cases
        return Understanding(None, score, scores)
    return Understanding(best, score, scores)

"""zhuisu.nlp: folding, tokenizer, components on hand-built Docs, event assembly, linking, enrichment, CLI."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest

spacy = pytest.importorskip("spacy")

from spacy.tokens import Doc  # noqa: E402

from zhuisu.ingest.records import Batch, Node  # noqa: E402
from zhuisu.nlp import lexicon as lexmod  # noqa: E402
from zhuisu.nlp.events import extract  # noqa: E402
from zhuisu.nlp.normalize import fold  # noqa: E402
from zhuisu.nlp.pipeline import blank, build_pipeline  # noqa: E402
from zhuisu.nlp.relations import assemble  # noqa: E402

GOLD = Path(__file__).parent / "data" / "nlp" / "gold.jsonl"


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline()


@pytest.fixture
def store(tmp_path):
    from zhuisu.graph.store import Store

    s = Store(str(tmp_path / "plant.db"))
    s.ingest(Batch(source="test", nodes=[
        Node("equipment:PRESS-02", "EquipmentUnit", "2号压装机", aliases=("#2压机",)),
        Node("equipment:IMM-03", "EquipmentUnit", "3号注塑机", aliases=("3#注塑机",)),
        Node("part:SP-0231", "SparePart", "液压泵密封圈"),
        Node("mo:MO-1", "MaintenanceOrder", "维修单1", attrs={
            "text": "3#注塑机液压泵异响，检查发现密封圈磨损，更换密封圈（备件号SP-0231）后试机正常，停机2.5小时",
            "reported_at": "2023-11-05T08:00:00"}),
        Node("mo:MO-2", "MaintenanceOrder", "维修单2", attrs={"text": "点检#2压机，未发现异常"}),
    ]))
    yield s
    s.close()


def test_fold_keeps_length_and_simplifies():
    for text in ("2號壓裝機壓力感測器讀數漂移", "５号ＡＢＣ\u3000x\x07", "😀E60"):
        assert len(fold(text)) == len(text)
    assert fold("2號壓裝機") == "2号压装机"
    assert fold("ＳＰ－０２３１") == "SP-0231"
    assert fold("a\x07b") == "a b"


def test_lexicon_normalises_synonyms_to_one_concept():
    lex = lexmod.base()
    concepts = {lex.lookup(s).concept for s in ("异响", "异常响声", "噪音大", "噪聲大")}
    assert concepts == {"symptom:异响"}
    assert "液压泵" in lex.jieba_userdict()


def test_dictionary_is_the_ontology_vocabulary_and_each_form_names_one_concept():
    """The dictionary comes from ``ontology/vocabulary.ttl`` (SKOS concepts typed with the ontology's kinds);
    a surface form written under two concepts would make its reading depend on the order they are read in."""
    from zhuisu.nlp.normalize import fold
    from zhuisu.ontology import load

    concepts = lexmod.concepts()
    assert len(concepts) > 900
    kinds = load().kinds
    assert {"EquipmentType", "Characteristic", "Symptom", "Component"} <= set(kinds)
    owners: dict[str, str] = {}
    for concept in concepts:
        for surface in concept.surfaces:
            key = fold(surface).strip().lower()
            assert owners.setdefault(key, concept.uid) == concept.uid, (surface, owners[key], concept.uid)
    lex = lexmod.base()
    assert lex.lookup("啤机").concept == "equipment-type:注塑机" and lex.lookup("异想").label == "Symptom"


def test_tokenizer_keeps_rule_matches_whole():
    doc = blank()("3#注塑机液压泵异响，更换密封圈（备件号SP-0231），停机2.5小时")
    words = [t.text for t in doc]
    for piece in ("3#注塑机", "液压泵", "异响", "SP-0231", "2.5小时"):
        assert piece in words
    assert doc.text == "3#注塑机液压泵异响，更换密封圈（备件号SP-0231），停机2.5小时"


def test_entity_ruler_on_hand_built_doc():
    nlp = blank()
    ruler = nlp.add_pipe("zhuisu_entity_ruler_v1")
    doc = Doc(nlp.vocab, words=["主轴", "异响", "，", "更换", "轴承"], spaces=[False] * 5)
    doc = ruler(doc)
    assert [(e.text, e.label_) for e in doc.ents] == [("主轴", "Component"), ("异响", "Symptom"),
                                                     ("更换", "Action"), ("轴承", "Component")]
    assert doc.ents[1]._.concept == "symptom:异响"


def test_bio_decoder_merges_model_spans_with_rules():
    nlp = blank()
    ruler = nlp.add_pipe("zhuisu_entity_ruler_v1")
    decoder = nlp.add_pipe("zhuisu_bio_decoder_v1")
    words = ["张紧", "器", "卡涩", "，", "更换"]
    doc = ruler(Doc(nlp.vocab, words=words, spaces=[False] * 5, tags=["B-Component", "I-Component", "B-Symptom",
                                                                       "O", "O"]))
    doc = decoder(doc)
    assert [(e.text, e.label_) for e in doc.ents] == [("张紧器", "Component"), ("卡涩", "Symptom"),
                                                     ("更换", "Action")]
    assert doc.ents[0]._.source == "model"


def _decoded(words: list[str], tags: list[str]) -> list[tuple[str, str]]:
    nlp = blank()
    ruler = nlp.add_pipe("zhuisu_entity_ruler_v1")
    decoder = nlp.add_pipe("zhuisu_bio_decoder_v1")
    doc = decoder(ruler(Doc(nlp.vocab, words=words, spaces=[False] * len(words), tags=tags)))
    return [(e.text, e.label_) for e in doc.ents]


def test_bio_decoder_extends_components_but_keeps_attribute_and_state_apart():
    # a modifier the dictionary lacks joins the component the model reads it with
    assert _decoded(["位移", "传感器", "松动"], ["B-Component", "I-Component", "B-Symptom"]) == [
        ("位移传感器", "Component"), ("松动", "Symptom")]
    # a verb does not, whatever the model says
    assert _decoded(["拆下", "传感器"], ["B-Component", "I-Component"]) == [("传感器", "Component")]
    # an attribute and its state stay two mentions even when the model joins them
    assert _decoded(["电流", "偏大"], ["B-Symptom", "I-Symptom"]) == [("电流", "Attribute"), ("偏大", "Symptom")]
    # filler words at a model span's edge are dropped
    assert _decoded(["压头", "发黑", "严重"], ["B-Component", "B-Symptom", "I-Symptom"])[1] == ("发黑", "Symptom")


def test_dictionary_terms_cover_the_most_text():
    from zhuisu.nlp.patterns import scan

    lex = lexmod.base()

    def terms(text: str) -> list[str]:
        return [text[m.start : m.end] for m in scan(text, lex)]

    # longest-first would take 清洗液 and leave 位计; the segmentation covering the most reads 清洗 + 液位计
    assert terms("清洗液位计") == ["清洗", "液位计"]
    # equal cover: the earlier term wins (更换, not 换油)
    assert terms("更换油分芯")[0] == "更换"


def test_bio_decoder_compounds():
    # two dictionary components stay a part and its owner, whatever the model joins
    assert _decoded(["电磁阀", "线圈", "烧坏"], ["B-Component", "I-Component", "B-Symptom"]) == [
        ("电磁阀", "Component"), ("线圈", "Component"), ("烧坏", "Symptom")]
    # a generic head or a one-character part joins what it follows
    assert _decoded(["柱塞", "密封", "泄漏"], ["B-Component", "B-Component", "B-Symptom"])[0] == (
        "柱塞密封", "Component")
    assert _decoded(["排湿", "管", "堵塞"], ["B-Attribute", "B-Component", "B-Symptom"])[0] == (
        "排湿管", "Component")
    # a position or a count is not a name
    assert ("第5", "Component") not in _decoded(["第5", "灌装阀", "滴漏"], ["B-Component", "B-Component",
                                                                          "B-Symptom"])
    # a machine named by its type and a part of it stay two mentions (part-of), as two parts do
    assert _decoded(["输送线", "电机", "发热"], ["B-Component", "I-Component", "B-Symptom"])[:2] == [
        ("输送线", "Equipment"), ("电机", "Component")]
    # a part before a quantity stays part + quantity even where the model reads one name
    assert _decoded(["电机", "绝缘", "低"], ["B-Component", "I-Component", "B-Symptom"])[:2] == [
        ("电机", "Component"), ("绝缘", "Attribute")]


def test_axes_broken_gauges_and_instruments(nlp):
    from zhuisu.nlp.events import extract

    def ents(text: str) -> list[tuple[str, str]]:
        return [(m.text, m.label) for m in extract(text, nlp=nlp).mentions]

    assert ("X轴", "Component") in ents("CNC3X轴定位不准")
    assert ("第4轴", "Component") in ents("机器人第4轴漏油") and ("J2轴", "Component") in ents("机器人J2轴异响")
    assert not any(t.endswith("轴") for t, _l in ents("电机2轴承异响"))
    # a gauge that is itself broken is a part, not the tool of a measurement
    assert ("压力表", "Component") in ents("压力表损坏，更换")
    # an instrument named after the quantity it measures
    assert ("粘度仪", "Tool") in ents("胶水粘度偏大，粘度仪测得1200")


def test_asset_tags_measured_states_and_what_a_tool_measured(nlp):
    from zhuisu.nlp.events import extract

    def ents(text: str) -> list[tuple[str, str]]:
        return [(m.text, m.label) for m in extract(text, nlp=nlp).mentions]

    # a code opening the note (or following only a time) with no alarm cue is the machine's asset tag
    assert ("NXT-2", "Equipment") in ents("NXT-2贴装偏移，紧固相机支架")
    assert ("OP50", "Equipment") in ents("今早接班OP50主轴超温报警ALM4113")
    assert ("E60", "FaultCode") in ents("E60报警，复位后正常")
    assert ("SP9012", "FaultCode") in ents("主轴驱动器报警，SP9012，断电重启")
    # a state word that is a measured quantity, right before its value, is the quantity (convention B)
    assert ("振动", "Attribute") in ents("主轴异响，测振仪测振动4.6mm/s")
    assert ("振动", "Symptom") in ents("主轴振动，更换轴承")
    assert ("12μF", "Parameter") in ents("启动电容容量衰减到12μF")
    # the tool measured the quantity, not the part that has it
    event = extract("兆欧表摇Y轴电机绝缘偏低，只有0.5MΩ", nlp=nlp)
    names = {m.text: k for k, m in enumerate(event.mentions)}
    assert (names["绝缘"], names["兆欧表"], "detected-with") in {(r.head, r.tail, r.label) for r in event.relations}


def test_a_reset_clears_the_alarmed_part_and_tools_of_an_action_are_no_objects(nlp):
    from zhuisu.nlp.events import extract

    def actions(text: str) -> set[tuple[str, str]]:
        event = extract(text, nlp=nlp)
        return {(event.mentions[r.head].text, event.mentions[r.tail].text) for r in event.relations
                if r.label == "action-on"}

    # 复位 with no object: what raised the alarm, not the last part named
    assert ("复位", "变频器") in actions("1号线贴标机电机不转，变频器报OC过流，复位后正常")
    assert ("复位", "4号贴片机") in actions("4号贴片机报警ALM2031，动力线磨破，更换动力线后复位")
    # 用酒精擦拭: the alcohol is what it was done with
    assert ("擦拭", "酒精") not in actions("AOI-1轨道皮带打滑，用酒精擦拭后OK")


def test_work_order_form_fields(nlp):
    from zhuisu.nlp.events import extract
    from zhuisu.nlp.patterns import clause_spans

    text = "故障现象：3号空压机排气温度高报警停机；原因分析：油冷却器翅片堵塞；处理措施：清洗冷却器，停机时长：2小时"
    event = extract(text, nlp=nlp)
    mentions = {(m.text, m.label) for m in event.mentions}
    # the field labels are no mentions (故障 of 故障现象 is no fault); a machine number after a colon counts
    assert not {m for m in mentions if m[0] in ("故障现象", "故障", "原因分析", "处理措施", "停机时长")}
    assert [m.start for m in event.mentions if m.text == "停机"] == [text.index("停机")]  # 报警停机, not the field
    assert ("3号空压机", "Equipment") in mentions and ("堵塞", "Symptom") in mentions
    assert event.downtime_h == 2.0
    # fields written on one line without punctuation still open clauses
    line = "设备：2#注塑机 现象：液压泵异响 原因：吸油滤网堵塞 措施：清洗滤网"
    assert [line[a:b].split("：")[0].strip() for a, b in clause_spans(line)] == ["设备", "现象", "原因", "措施"]
    assert ("吸油滤网", "Component") in {(m.text, m.label) for m in extract(line, nlp=nlp).mentions}
    assert ("6号压装机", "Equipment") in {(m.text, m.label) for m in extract("14:30 6号压装机异响", nlp=nlp).mentions}


def test_part_numbers_order_numbers_units_and_one_character_actions(nlp):
    from zhuisu.nlp.events import extract

    def ents(text: str) -> list[tuple[str, str]]:
        return [(m.text, m.label) for m in extract(text, nlp=nlp).mentions]

    assert ents("备件SP-GH-0316已领，物料号30012457") == [("SP-GH-0316", "SparePart"), ("30012457", "SparePart")]
    order = ents("工单号：WO-231103，3号空压机跳闸")  # the form's number: no alarm, no mention
    assert order == [("3号空压机", "Equipment"), ("跳闸", "Symptom")]
    params = [t for t, label in ents("比重1.82g/ml，流量6m³/h，23±0.1℃，本底5.2E-7Torr") if label == "Parameter"]
    assert params == ["1.82g/ml", "6m³/h", "23±0.1℃", "5.2E-7Torr"]
    event = extract("温度23±0.1℃，压力18~25MPa来回跳，停机2.5小时", nlp=nlp)
    assert [(q.value, q.unit) for q in event.parameters] == [(23.0, "℃"), (18.0, "MPa"), (2.5, "小时")]
    assert event.parameters[-1].attribute is None  # the duration is no pressure reading
    # a one-character action before what it works on or a particle; never a piece of another word
    assert ents("换油封") == [("换", "Action"), ("油封", "Component")]
    assert ("换", "Action") in ents("链条断了，换了")
    assert ("换", "Action") not in ents("换刀慢，切换不了")


def test_tagger_word_features_are_head_character_and_dictionary_label():
    nlp = blank(lex_features=True)
    doc = nlp("溢流阀卡滞，更换位移传感器")
    feats = {t.text: (t.suffix_, t.shape_) for t in doc}
    assert feats["溢流阀"] == ("阀", "Component3") and feats["更换"] == ("换", "Action2")
    # the shipped model names the same features in its config, so loading it computes them again
    assert "zhuisu.lex_attrs.v1" in str(build_pipeline().config["nlp"].get("after_creation"))


def test_template_compounds_label_part_and_owner():
    import random

    from zhuisu.nlp.corpus import _component, _vocab

    vocab = _vocab()
    names = [_component(random.Random(k), vocab) for k in range(400)]
    pairs = [n for n in names if len(n) == 2]
    assert pairs and all(p[1] in vocab["ComponentSet"] and len(p[1]) >= 2 for p in pairs)


def test_bdci_fault_head_takes_in_touching_owners():
    from zhuisu.nlp.bdci import to_spo
    from zhuisu.nlp.events import MaintenanceEvent, Mention, Relation

    text = "液压泵电机烧毁"
    event = MaintenanceEvent(text=text, mentions=[Mention("Component", "液压泵", 0, 3),
                                                  Mention("Component", "电机", 3, 5),
                                                  Mention("Symptom", "烧毁", 5, 7)],
                             relations=[Relation(1, 0, "part-of"), Relation(1, 2, "has-fault")])
    spo = to_spo(event)
    assert {"h": {"name": "液压泵电机", "pos": [0, 5]}, "t": {"name": "烧毁", "pos": [5, 7]},
            "relation": "部件故障"} in spo
    assert any(s["relation"] == "组成" and s["h"]["name"] == "电机" for s in spo)


def test_bdci_tails_quantity_faults_and_no_fault_cues():
    from zhuisu.nlp.bdci import to_spo
    from zhuisu.nlp.events import MaintenanceEvent, Mention, Relation

    def spo(text, mentions, relations):
        return {(s["h"]["name"], s["t"]["name"], s["relation"])
                for s in to_spo(MaintenanceEvent(text=text, mentions=mentions, relations=relations))}

    # the unlabelled words between a part and its state belong to the state (BDCI writes 回位不良)
    assert spo("真空助力器回位不良", [Mention("Component", "真空助力器", 0, 5), Mention("Symptom", "不良", 7, 9)],
               [Relation(0, 1, "has-fault")]) == {("真空助力器", "回位不良", "部件故障")}
    # ... but not a function word (内部, 已经)
    assert spo("油分离器内部破损", [Mention("Component", "油分离器", 0, 4), Mention("Symptom", "破损", 6, 8)],
               [Relation(0, 1, "has-fault")]) == {("油分离器", "破损", "部件故障")}
    # a state ending in a negation takes the word it governs (不能 + 通讯)
    assert spo("控制单元不能通讯。", [Mention("Component", "控制单元", 0, 4), Mention("Symptom", "不能", 4, 6)],
               [Relation(0, 1, "has-fault")]) == {("控制单元", "不能通讯", "部件故障")}
    # a quantity's fault right after a part is the part's fault, the quantity with its state
    assert spo("电机温度过高", [Mention("Component", "电机", 0, 2), Mention("Attribute", "温度", 2, 4),
                            Mention("Symptom", "过高", 4, 6)],
               [Relation(1, 2, "has-fault")]) == {("电机", "温度过高", "部件故障")}
    assert spo("油温过高", [Mention("Attribute", "油温", 0, 2), Mention("Symptom", "过高", 2, 4)],
               [Relation(0, 1, "has-fault")]) == {("油温", "过高", "性能故障")}
    # 工作正常, 故障排除, 故障灯 and a part named after 检查 are no faults
    assert not spo("风扇工作正常", [Mention("Component", "风扇", 0, 2), Mention("Symptom", "工作", 2, 4)],
                   [Relation(0, 1, "has-fault")])
    assert not spo("发动机故障灯亮", [Mention("Component", "发动机", 0, 3), Mention("Symptom", "故障", 3, 5)],
                   [Relation(0, 1, "has-fault")])
    assert not spo("检查油管破损", [Mention("Component", "油管", 2, 4), Mention("Symptom", "破损", 4, 6)],
                   [Relation(0, 1, "has-fault")])


def test_compound_attributes_and_media():
    from zhuisu.nlp.lexicon import base

    lex = base()
    assert lex.lookup("排气温度").label == "Attribute"  # generated: modifier + quantity
    assert lex.lookup("锁模力").label == "Attribute"
    assert lex.lookup("压力开关").label == "Component"  # a device named after a quantity
    assert lex.lookup("液压油").label == "Component"  # a medium owns its attribute: 液压油 + 温度


def test_qualifiers_and_relations_components():
    nlp = blank()
    for name in ("zhuisu_entity_ruler_v1", "zhuisu_qualifiers_v1", "zhuisu_relations_v1"):
        nlp.add_pipe(name)
    doc = nlp("怀疑轴承磨损，未发现异常")
    by_text = {e.text: e for e in doc.ents}
    assert by_text["磨损"]._.uncertain and not by_text["磨损"]._.negated
    assert by_text["异常"]._.negated
    assert (0, 1, "has-fault") in doc._.relations


def test_relation_rules_without_spacy():
    text = "3#注塑机液压泵异响，检查发现密封圈磨损，更换密封圈"
    ents = [(0, 5, "Equipment", False), (5, 8, "Component", False), (8, 10, "Symptom", False),
            (15, 18, "Component", False), (18, 20, "Symptom", False), (21, 23, "Action", False),
            (23, 26, "Component", False)]
    rels = set(assemble(text, ents))
    assert {(1, 0, "part-of"), (1, 2, "has-fault"), (3, 4, "has-fault"), (2, 4, "caused-by"),
            (5, 6, "action-on")} <= rels
    # three fault clauses: each finding explains the one before it
    text = "冷却塔液位低，补水泵不启动，液位开关失效"
    ents = [(0, 3, "Equipment", False), (3, 5, "Attribute", False), (5, 6, "Symptom", False),
            (7, 10, "Component", False), (10, 13, "Symptom", False), (14, 18, "Component", False),
            (18, 20, "Symptom", False)]
    rels = {r for r in assemble(text, ents) if r[2] == "caused-by"}
    assert rels == {(2, 4, "caused-by"), (4, 6, "caused-by")}
    # a defect of the product is no fault of the machine
    text = "2号注塑机产品缩水，保压不足"
    ents = [(0, 5, "Equipment", False), (7, 9, "Symptom", False), (10, 12, "Attribute", False),
            (12, 14, "Symptom", False)]
    assert not any(r[2] == "has-fault" and r[1] == 1 for r in assemble(text, ents))
    # a state after a list of parts is the state of each (水嘴或滤网堵塞, 轴承、齿轮损坏)
    text = "轴承、齿轮或端盖损坏"
    ents = [(0, 2, "Component", False), (3, 5, "Component", False), (6, 8, "Component", False),
            (8, 10, "Symptom", False)]
    assert {r for r in assemble(text, ents) if r[2] == "has-fault"} == {(0, 3, "has-fault"), (1, 3, "has-fault"),
                                                                       (2, 3, "has-fault")}


def test_relation_rules_for_lists_items_resets_and_stated_quantities():
    def ents_of(text: str, spans: list[tuple[str, str]]) -> list[tuple[int, int, str, bool]]:
        out, pos = [], 0
        for surface, label in spans:
            start = text.index(surface, pos)
            out.append((start, start + len(surface), label, False))
            pos = start + len(surface)
        return out

    # an action on a list acts on each part of it
    text = "更换加热丝及固态继电器"
    rels = assemble(text, ents_of(text, [("更换", "Action"), ("加热丝", "Component"), ("固态继电器", "Component")]))
    assert {r for r in rels if r[2] == "action-on"} == {(0, 1, "action-on"), (0, 2, "action-on")}
    # an objectless action looks in its own list item first
    text = "②挤塑机过滤网堵；③2#编织机无异常，加油保养"
    ents = ents_of(text, [("挤塑机", "Equipment"), ("过滤网", "Component"), ("堵", "Symptom"),
                          ("2#编织机", "Equipment"), ("异常", "Symptom"), ("加油", "Action"), ("保养", "Action")])
    assert {r for r in assemble(text, ents) if r[2] == "action-on"} == {(5, 3, "action-on"), (6, 3, "action-on")}
    # a reset right after what it names resets that, not what raised the alarm
    text = "贴合鼓不转，PLC复位后好了"
    ents = ents_of(text, [("贴合鼓", "Component"), ("不转", "Symptom"), ("PLC", "Component"), ("复位", "Action")])
    assert (3, 2, "action-on") in assemble(text, ents)
    # a quantity that has its state already does not own the next state: the machine does
    text = "2#立磨振动大跳停"
    ents = ents_of(text, [("2#立磨", "Equipment"), ("振动", "Attribute"), ("大", "Symptom"), ("跳停", "Symptom")])
    assert {r for r in assemble(text, ents) if r[2] == "has-fault"} == {(1, 2, "has-fault"), (0, 3, "has-fault")}


def test_relation_rules_spare_in_the_next_clause_and_media():
    text = "AGV-03驱动轮磨损严重，行走打滑，更换驱动轮，备件SP-0101"
    ents = [(0, 6, "Equipment", False), (6, 9, "Component", False), (9, 11, "Symptom", False),
            (16, 18, "Symptom", False), (19, 21, "Action", False), (21, 24, "Component", False),
            (27, 34, "SparePart", False)]
    rels = set(assemble(text, ents))
    assert (4, 6, "replaced-part") in rels
    # a working medium is nobody's part
    assert not any(r[2] == "part-of" for r in assemble("9号注塑机液压油温度过高", [(0, 5, "Equipment", False),
                                                                        (5, 8, "Component", False)]))


def test_extract_issue_examples(nlp):
    note = "3#注塑机液压泵异响，检查发现密封圈磨损，更换密封圈（备件号SP-0231）后试机正常，停机2.5小时"
    event = extract(note, nlp=nlp)
    assert [m.text for m in event.equipment] == ["3#注塑机"]
    assert {m.text for m in event.components} >= {"液压泵", "密封圈"}
    assert {m.concept for m in event.symptoms} >= {"symptom:异响", "symptom:磨损"}
    assert [m.concept for m in event.spare_parts] == ["part:SP-0231"]
    assert event.downtime_h == 2.5
    for m in event.mentions:
        assert event.text[m.start : m.end] == m.text
    labels = {(event.mentions[r.head].text, event.mentions[r.tail].text, r.label) for r in event.relations}
    assert ("液压泵", "异响", "has-fault") in labels
    assert ("更换", "SP-0231", "replaced-part") in labels

    event = extract("夜班反映主轴抓刀报警E60，复位后再次报警，交班", nlp=nlp, note_date=date(2023, 11, 4))
    assert [m.text for m in event.fault_codes] == ["E60"]
    assert event.times[0].start == datetime(2023, 11, 4, 20, 0)


def test_times_negation_uncertainty_parameters(nlp):
    event = extract("昨天夜班2号压装机油温85℃偏高，怀疑冷却器堵塞；11月3日曾清洗", nlp=nlp,
                    note_date=datetime(2023, 11, 5, 9, 0))
    starts = sorted(t.start for t in event.times)
    assert starts == [datetime(2023, 11, 3, 0, 0), datetime(2023, 11, 4, 20, 0)]
    assert any(q.value == 85 and q.unit == "℃" for q in event.parameters)
    assert any(m.text == "堵塞" and m.uncertain for m in event.symptoms)
    assert all(m.negated for m in extract("点检正常，未发现异常", nlp=nlp).symptoms)
    # a check whether is no finding; 不是 negates what follows it
    assert all(m.uncertain for m in extract("检查液压泵是否漏油", nlp=nlp).symptoms)
    assert all(m.negated for m in extract("确认不是异响", nlp=nlp).symptoms)


def test_linking_equipment_from_store(store):
    nlp = build_pipeline(store)
    for surface in ("#2压机", "2号压装机", "二号压装机", "PRESS-02", "2#压装机", "No.2压装机"):
        event = extract(f"{surface}液压缸内泄，保压压力掉到8MPa", nlp=nlp)
        assert [m.concept for m in event.equipment] == ["equipment:PRESS-02"], surface
    assert extract("3号注塑机射嘴漏料", nlp=nlp).equipment[0].concept == "equipment:IMM-03"
    assert extract("5号压装机异响", nlp=nlp).equipment[0].concept.startswith("equipment-type:")


def test_enrich_links_orders_with_evidence(store):
    from zhuisu.nlp.enrich import enrich

    batch = enrich(store)
    edges = {(e.src, e.rel, e.dst): e for e in batch.edges}
    assert ("mo:MO-1", "maintains", "equipment:IMM-03") in edges
    assert ("mo:MO-1", "usedSparePart", "part:SP-0231") in edges
    evidence = edges[("mo:MO-1", "reportsSymptom", "symptom:异响")].attrs
    assert evidence["surface"] == "异响" and (evidence["start"], evidence["end"]) == (8, 10)
    assert not any(e.src == "mo:MO-2" and e.rel == "reportsSymptom" for e in batch.edges)  # negated
    result = store.ingest(batch)
    assert result.edges_added == len(batch.edges)
    assert store.ingest(enrich(store)).edges_added == 0  # re-reading the notes adds nothing


def test_gold_regression_floor(nlp):
    from zhuisu.nlp.evaluate import read_gold, score
    from zhuisu.nlp.events import extract_many

    gold = read_gold(GOLD)
    assert len(gold) >= 200
    report = score(gold, [e.to_record() for e in extract_many([g["text"] for g in gold], nlp=nlp)])
    # measured 0.933 / 0.853 (docs/nlp.md, 2026-11-27, sixth round); the issue's bar is the test below
    assert report.entities.f1 >= 0.930
    assert report.relations.f1 >= 0.848


def test_gold_meets_issue_thresholds(nlp):
    from zhuisu.nlp.evaluate import read_gold, score
    from zhuisu.nlp.events import extract_many

    gold = read_gold(GOLD)
    report = score(gold, [e.to_record() for e in extract_many([g["text"] for g in gold], nlp=nlp)])
    assert report.entities.f1 >= 0.90 and report.relations.f1 >= 0.80


def test_gold_offsets_are_exact():
    for line in GOLD.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        for e in rec["entities"]:
            assert rec["text"][e["start"] : e["end"]] == e["text"]
        for r in rec["relations"]:
            assert 0 <= r["head"] < len(rec["entities"]) and 0 <= r["tail"] < len(rec["entities"])


def test_training_notes_parse_and_share_no_text_with_the_gold_set():
    """The annotated training notes are written apart from the gold set: no note repeats 12 characters of a
    gold note (the gold set measures plant notes zhuisu has never seen)."""
    from zhuisu.nlp.corpus import NOTES_DIR
    from zhuisu.nlp.markup import read

    gold = [json.loads(line)["text"] for line in GOLD.read_text(encoding="utf-8").splitlines()]
    grams = {g[i : i + 12] for g in gold for i in range(len(g) - 11)}
    files = sorted(NOTES_DIR.glob("*.txt"))
    assert files
    for path in files:
        for k, note in enumerate(read(path), 1):
            text = note["text"]
            shared = [text[i : i + 12] for i in range(len(text) - 11) if text[i : i + 12] in grams]
            assert not shared, f"{path.name} note {k} repeats gold text {shared[0]!r}"


def test_entity_mirror_matches_doc_ents(nlp):
    from zhuisu.nlp.components import entities

    for text in ("3#注塑机液压泵异响，检查发现密封圈磨损，更换密封圈（备件号SP-0231）", "", "ＡＧＶ-03驅動輪磨損"):
        doc = nlp(text)
        assert entities(doc) == [(e.start, e.end, e.label_, e.start_char, e.end_char) for e in doc.ents]


def test_tokenizer_cuts_each_gap_as_jieba_alone_would():
    from zhuisu.nlp.patterns import scan
    from zhuisu.nlp.tokenizer import _jieba

    lex = lexmod.base()
    for text in ("夜班反映主轴抓刀报警E60，复位后再次报警，交班", "  x, 液压站 漏油!! abc def 检查发现", "。。，"):
        folded = fold(text)
        expected, pos = [], 0
        for m in [*scan(folded, lex), None]:
            end = m.start if m else len(text)
            if end > pos:
                expected += list(_jieba(lex).cut(folded[pos:end], HMM=False))
            if m:
                expected.append(folded[m.start : m.end])
                pos = m.end
        assert [fold(t.text) for t in blank()(text)] == expected


def test_machine_names_around_a_type_word():
    from zhuisu.nlp.lexicon import base
    from zhuisu.nlp.patterns import scan

    def machines(text: str) -> list[str]:
        return [text[m.start : m.end] for m in scan(text, base()) if m.label == "Equipment"]

    assert machines("2号冷水机组停机") == ["2号冷水机组"]  # the longest type word
    assert machines("#2压机异响，二号压装机正常") == ["#2压机", "二号压装机"]
    assert machines("CNC-05主轴报警") == ["CNC-05"] and machines("SMT-03贴片机抛料") == ["SMT-03贴片机"]
    assert machines("400T冲床飞轮振动") == ["400T冲床"] and machines("1号线停线") == ["1号线"]
    assert machines("2号定子压装机漏油") == ["2号定子压装机"] and machines("转子压装机定位不准") == ["转子压装机"]
    assert machines("今早转子压装机异响") == ["压装机"]  # a time is no modifier
    assert machines("14:306号压装机压力低") == ["压装机"]  # no 306号 out of a clock time
    assert machines("压装机 3.5MPa") == ["压装机"]  # a value after it is no number of the machine
    assert machines("No.2切割机刀轮崩口") == ["No.2切割机"] and machines("#1B磨煤机跳闸") == ["#1B磨煤机"]
    assert machines("2A给水泵振动大，电流3A") == ["2A给水泵"]  # unit 2, side A; 3A is a current
    # a numbered auxiliary unit is a machine of its own; unnumbered after a machine it is a part; a motor never
    assert machines("2#冷干机露点偏高，3号配电柜跳闸") == ["2#冷干机", "3号配电柜"]
    assert machines("注塑机模温机漏水") == ["注塑机"] and machines("2#电机过热") == []
    # a numbered name the dictionary lacks, ending in a machine's head, unless it cuts a dictionary word
    assert machines("3#炉温度高，#2机组跳闸") == ["3#炉", "#2机组"]
    assert machines("1号中和槽液位低") == ["1号中和槽"] and machines("2号机械手夹爪松") == ["2号机械手"]

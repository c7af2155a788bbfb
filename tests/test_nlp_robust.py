"""zhuisu.nlp on awkward input (empty, English, huge, traditional, emoji, control characters) and its CLI."""

from __future__ import annotations

import json
import time

import pytest

pytest.importorskip("spacy")

from typer.testing import CliRunner  # noqa: E402

from zhuisu.nlp.cli import app  # noqa: E402
from zhuisu.nlp.events import extract  # noqa: E402
from zhuisu.nlp.pipeline import build_pipeline  # noqa: E402


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline()


@pytest.mark.parametrize("text", ["", "   ", "\x00\x01\x1f", "The hydraulic pump is noisy, replaced seal SP-0231.",
                                  "pump异响, replace 密封圈 ok 👍", "😀🔧⚙️", "\u200b\ufeff压机\u2028异响"])
def test_odd_input_does_not_crash(nlp, text):
    event = extract(text, nlp=nlp)
    for m in event.mentions:
        assert event.text[m.start : m.end] == m.text


def test_mixed_english_finds_codes_and_chinese_terms(nlp):
    event = extract("pump异响, replace 密封圈 SP-0231, alarm E60", nlp=nlp)
    assert {m.text for m in event.mentions} >= {"异响", "密封圈", "SP-0231"}


def test_traditional_characters(nlp):
    event = extract("2號壓裝機壓力傳感器讀數漂移，校準後恢復正常", nlp=nlp)
    # a reading and its state are attribute + symptom (讀數 + 漂移); the state normalises to one concept
    assert [(m.text, m.concept) for m in event.symptoms] == [("漂移", "symptom:读数漂移")]
    assert [m.text for m in event.mentions if m.label == "Attribute"] == ["讀數"]
    assert event.actions[0].concept == "action:校准"


def test_huge_text_is_bounded(nlp):
    text = ("3#注塑机液压泵异响，更换密封圈😀\x07。" * 6000)[:100_000]
    assert len(text) == 100_000
    t0 = time.perf_counter()
    event = extract(text, nlp=nlp)
    assert time.perf_counter() - t0 < 30
    assert len(event.symptoms) >= 5000


def test_cli_extract_and_bdci_format(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "空调制冷效果差，压缩机异响"}, ensure_ascii=False) + "\n"
                   + json.dumps({"ID": "AT1", "text": "发动机熄火"}, ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["extract", str(src), str(out), "--format", "bdci2022"])
    assert result.exit_code == 0, result.output
    recs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["ID"] for r in recs] == ["a", "AT1"]
    for rec in recs:
        for spo in rec["spo_list"]:
            for end in ("h", "t"):
                a, b = spo[end]["pos"]
                assert rec["text"][a:b] == spo[end]["name"]
            assert spo["relation"] in ("部件故障", "性能故障", "组成", "检测工具")
    assert any(s["t"]["name"] == "异响" for s in recs[0]["spo_list"])


def test_cli_errors_are_one_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "text": "ok"}\nnot json\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["extract", str(bad), str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2
    assert "bad.jsonl:2" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(app, ["eval", str(tmp_path / "missing.jsonl")])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    gold = tmp_path / "g.jsonl"
    gold.write_text('{"id": 1, "text": "主轴异响", "entities": [], "relations": []}\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", str(gold), "--model", str(tmp_path / "no-model")])
    assert result.exit_code == 2 and "no trained model" in result.output and "Traceback" not in result.output

"""The workbench (zhuisu.web) over the motor sample plant: pages, errors, keys, exports and the 50 000-node graph
through the app directly, and the whole of it in Debian's chromium driven by Playwright.

Browser tests skip with a reason without /usr/bin/chromium (and fail under ZHUISU_REQUIRE_SERVICES=1); their
screenshots are written to test-output/web/.
"""

from __future__ import annotations

import csv
import io
import json
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from zhuisu.api.app import create_app
from zhuisu.api.auth import keys
from zhuisu.api.state import ApiSettings
from zhuisu.graph.engine import Engine
from zhuisu.graph.results import Ref, Step, Trace, TraceEdge, TraceNode
from zhuisu.graph.store import Store
from zhuisu.graph.trace import trace
from zhuisu.ingest import plan
from zhuisu.samples.demo import MOTOR
from zhuisu.web import graphview, i18n

from .conftest import REPO, service_missing

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = REPO / "test-output" / "web"
TRUTH = json.loads((MOTOR / "truth.json").read_text(encoding="utf-8"))
CAUSE, CODE = TRUTH["causes"][0]["uid"], TRUTH["defect_code"]
EXTERNAL = re.compile(r"""<(?:script|link|img)[^>]+(?:src|href)=["']?(?:https?:)?//""", re.I)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The motor sample plant (uploads in these tests add a supplier and EPCIS events to it)."""
    st = Store(tmp_path_factory.mktemp("web") / "motor.db")
    for batch in plan(MOTOR):
        st.ingest(batch)
    yield st
    st.close()


@pytest.fixture(scope="module")
def defective(store: Store) -> str:
    """A unit made with the injected bad lot and found with the injected defect."""
    forward = trace(Engine.load(store), CAUSE, direction="forward")
    return next(n.uid for n in forward.nodes if n.kind == "SerialUnit"
                and any(i.result == "fail" and i.defect_code == CODE for i in n.inspections))


@pytest.fixture(scope="module")
def client(store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(store)) as c:
        yield c


def ingest_key(store: Store) -> str:
    return keys.create(store, name="质量工程师 QE", scopes=["ingest"])[1]


ORIGIN = {"Origin": "http://testserver"}


# ── through the app ────────────────────────────────────────────────────────────
def test_pages_are_chinese_by_default_and_switch_to_english(client: TestClient, defective: str) -> None:
    page = client.get("/trace", params={"uid": defective})
    assert page.status_code == 200 and '<html lang="zh-CN">' in page.text
    assert "追溯图" in page.text and "物料批次" in page.text
    english = client.get("/trace", params={"uid": defective, "lang": "en"})
    assert '<html lang="en">' in english.text and "Trace graph" in english.text
    assert english.cookies.get("zhuisu_lang") == "en"
    client.cookies.clear()


@pytest.mark.parametrize("path", ["/", "/trace?uid={unit}", "/contain?uid={cause}", "/rca?defect_code={code}",
                                  "/entity?uid={unit}", "/ask", "/ingest", "/login", "/search?q=PRESS",
                                  "/docs", "/redoc"])
def test_every_page_is_served_without_a_cdn(client: TestClient, defective: str, path: str) -> None:
    response = client.get(path.format(unit=defective, cause=CAUSE, code=CODE))
    assert response.status_code == 200, response.text[:300]
    assert not EXTERNAL.findall(response.text), "a page loads a script or style from another host"
    for asset in re.findall(r"""(?:src|href)="(/static/[^"]+)""", response.text):
        assert client.get(asset).status_code == 200, asset


def test_shareable_urls_and_errors_are_pages(client: TestClient) -> None:
    missing = client.get("/trace", params={"uid": "unit:SN-NOPE"})
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]
    assert "找不到 not found" in missing.text and "Traceback" not in missing.text
    bad = client.get("/trace", params={"uid": CAUSE, "direction": "sideways"})
    assert bad.status_code == 400 and "direction=&#39;sideways&#39;" in bad.text
    assert client.get("/rca", params={"defect_code": CODE, "since": "yesterday"}).status_code == 400
    page = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "/no-such-page" in page.text and "text/html" in page.headers["content-type"]
    api = client.get("/api/v1/no-such-thing", headers={"Accept": "text/html"})
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"


def test_every_text_a_template_uses_is_in_both_languages() -> None:
    used = {key for path in (REPO / "web" / "templates").glob("*.html")
            for key in re.findall(r"""\bt\('(\w+)'""", path.read_text(encoding="utf-8"))}
    assert used and not used - set(i18n.TEXT), used - set(i18n.TEXT)
    assert all(zh and en for zh, en in i18n.TEXT.values())


def test_rca_from_a_list_and_a_machine_timeline_by_category(client: TestClient, defective: str) -> None:
    listed = client.get("/rca", params={"units": f"{defective}\n{CAUSE}"})
    assert listed.status_code == 200 and 'id="causes"' in listed.text
    both = client.get("/rca", params={"units": defective, "defect_code": CODE})
    assert both.status_code == 400 and "not both" in both.text
    alarms = client.get("/entity", params={"uid": "equipment:PRESS-02", "category": "alarm"})
    rows = re.findall(r"<td>(生产|检验|报警|维修)</td>", alarms.text)
    assert rows and set(rows) == {"报警"}
    assert client.get("/entity", params={"uid": "equipment:PRESS-02", "category": "lunch"}).status_code == 400


def test_search_reads_codes_names_and_typos(client: TestClient, defective: str) -> None:
    def first(q: str) -> str:
        found = client.get("/search.json", params={"q": q}).json()
        assert found, q
        return found[0]["uid"]

    serial = defective.partition(":")[2]
    assert first(serial) == defective
    assert first(serial.replace("0", "O", 1)) == defective  # a letter O for a zero
    assert first(serial.lower().replace("-", " ")) == defective
    assert first("2号压装鸡") == "equipment:PRESS-02"  # a typo in a machine's Chinese name
    assert first("#2压机") == "equipment:PRESS-02"
    assert first(CAUSE.partition(":")[2]) == CAUSE
    assert client.get("/search.json", params={"q": "zzzz-nothing-like-it"}).json() == []
    assert client.get("/search", params={"q": serial}, follow_redirects=False).headers["location"] == \
        f"/entity?uid={defective}"


def test_exports(client: TestClient, defective: str) -> None:
    rows = list(csv.reader(io.StringIO(client.get("/trace/export.csv", params={"uid": defective}).text)))
    assert rows[0][0] == "\ufefflevel" and any(r[2] == CAUSE for r in rows[1:])
    steps = client.get("/trace/export.csv", params={"uid": defective, "table": "steps"}).text
    assert "equipment:" in steps
    whole = client.get("/trace/export.json", params={"uid": defective})
    assert whole.headers["content-disposition"].startswith("attachment")
    api = client.get("/api/v1/trace", params={"ref": defective}).json()
    assert {n["uid"] for n in whole.json()["nodes"]} == {n["uid"] for n in api["nodes"]}
    book = load_workbook(io.BytesIO(client.get("/contain/export.xlsx", params={"uid": CAUSE}).content))
    assert "受影响 Items" in book.sheetnames
    report = client.get("/rca/report", params={"defect_code": CODE})
    assert report.status_code == 200 and CAUSE.partition(":")[2] in report.text


def test_uploads_need_an_ingest_key_from_this_site(client: TestClient, store: Store) -> None:
    table = ("suppliers.csv", "supplier_id,name,country\nSUP-98,测试上传供应商,中国\n".encode(), "text/csv")
    anonymous = client.post("/ingest/upload", files={"files": table}, headers=ORIGIN)
    assert anonymous.status_code == 401 and anonymous.headers["content-type"] == "application/problem+json"
    client.cookies.set("zhuisu_key", keys.create(store, name="只读 reader", scopes=["read"])[1])
    assert client.post("/ingest/upload", files={"files": table}, headers=ORIGIN).status_code == 403
    client.cookies.set("zhuisu_key", ingest_key(store))
    forged = client.post("/ingest/upload", files={"files": table}, headers={"Origin": "http://evil.example"})
    assert forged.status_code == 403 and "Origin" in forged.json()["detail"]
    done = client.post("/ingest/upload", files={"files": table}, data={"nlp": "false"}, headers=ORIGIN)
    assert done.status_code == 200 and done.json()["batches"][0]["nodes_added"] == 1, done.text
    assert store.node("supplier:SUP-98").name == "测试上传供应商"
    broken = client.post("/ingest/upload", files={"files": ("lots.csv", b"lot_id\n", "text/csv")}, headers=ORIGIN)
    assert broken.status_code == 400 and "lots.csv" in broken.json()["where"], broken.text
    assert "lots.csv" in client.get("/ingest").text  # the failure is listed among the last errors
    document = json.loads((MOTOR / "epcis" / "events-0001.jsonld").read_text(encoding="utf-8"))
    document["epcisBody"]["eventList"] = document["epcisBody"]["eventList"][:1]
    document["epcisBody"]["eventList"][0]["eventID"] = "urn:uuid:00000000-0000-4000-8000-00000000feed"
    epcis = ("events.jsonld", json.dumps(document).encode(), "application/ld+json")
    done = client.post("/ingest/upload", files={"files": epcis}, headers=ORIGIN)
    assert done.status_code == 200 and done.json()["batches"], done.text
    client.cookies.clear()


def test_reads_can_require_a_key(store: Store) -> None:
    secret = keys.create(store, name="读者 reader", scopes=["read"])[1]
    with TestClient(create_app(store, settings=ApiSettings(keys_for_reads=True))) as c:
        gate = c.get("/rca?defect_code=E-VIB", follow_redirects=False)
        assert gate.status_code == 303 and gate.headers["location"] == "/login?next=%2Frca%3Fdefect_code%3DE-VIB"
        assert c.post("/ask.json", json={"question": "你好"}, headers=ORIGIN).status_code == 401
        assert c.post("/login", data={"key": "zs_bad_key"}, headers=ORIGIN).status_code == 401
        signed = c.post("/login", data={"key": secret, "next": "/rca?defect_code=E-VIB"}, headers=ORIGIN,
                        follow_redirects=False)
        assert signed.status_code == 303 and signed.headers["location"] == "/rca?defect_code=E-VIB"
        assert "httponly" in signed.headers["set-cookie"].lower()
        assert "samesite=strict" in signed.headers["set-cookie"].lower()
        assert c.get("/rca?defect_code=E-VIB").status_code == 200
        away = c.post("/login", data={"key": secret, "next": "//evil.example/"}, headers=ORIGIN,
                      follow_redirects=False)
        assert away.headers["location"] == "/"


def big_trace(lots: int = 50_000) -> Trace:
    """A unit made from ``lots`` lots, each made by one operation on one of ten machines."""
    nodes = [TraceNode("unit:BIG", "SerialUnit", None, 0), TraceNode("op:ASSY", "Operation", "总装", 1)]
    edges = [TraceEdge("op:ASSY", "unit:BIG", "produces", None, 1.0, "ea")]
    machines = tuple(Ref(f"equipment:M{i}", f"{i}号机") for i in range(10))
    steps = [Step("op:ASSY", "总装", None, 1, equipment=machines)]
    for i in range(lots):
        nodes.append(TraceNode(f"lot:L{i:05d}", "MaterialLot", None, 2))
        edges.append(TraceEdge(f"lot:L{i:05d}", "op:ASSY", "consumedBy", None, 1.0, "ea"))
    return Trace("unit:BIG", "backward", None, None, None, tuple(nodes), tuple(edges), tuple(steps))


def test_a_50000_node_trace_draws_collapsed_and_expands_in_bounds(store: Store) -> None:
    big = big_trace()
    onto = store.ontology

    def t(key: str, **values: Any) -> str:
        return f"{key}{values}"

    first = graphview.view(big, onto, "zh", t, None)
    lots = next(g for g in first["groups"] if g["kind"] == "MaterialLot")
    assert lots["count"] == 50_000 and not lots["expanded"]
    assert first["drawn"] <= graphview.BUDGET and len(first["nodes"]) == first["drawn"]
    cluster = next(n for n in first["nodes"] if n["id"] == lots["id"])
    assert cluster["cluster"] and "50,000" in cluster["label"]
    assert any(e["from"] == lots["id"] and e["label"] == "×50,000" for e in first["edges"])
    machines = next(g for g in first["groups"] if g["kind"] == "Equipment")
    assert machines["expanded"] and machines["count"] == 10
    opened = graphview.view(big, onto, "zh", t, [g["id"] for g in first["groups"]])
    assert len(opened["nodes"]) == 1 + 1 + graphview.MEMBERS + 1 + 10  # unit, op, lots shown, "more", machines
    more = next(n for n in opened["nodes"] if n.get("more"))
    assert "49,800" in more["label"]
    columns = Counter(n["level"] for n in opened["nodes"])  # a big level wraps into columns, in level order
    assert max(columns.values()) <= graphview.COLUMN and len(columns) > 4
    by_uid = {n["id"]: n["level"] for n in opened["nodes"]}
    assert by_uid[big.nodes[0].uid] < min(n["level"] for n in opened["nodes"] if n.get("kind") == "MaterialLot")


# ── in the browser ─────────────────────────────────────────────────────────────
@pytest.fixture(scope="module")
def server(store: Store) -> Iterator[str]:
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    running = uvicorn.Server(uvicorn.Config(create_app(store), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running.started, "the server did not start"
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        service_missing("Debian's chromium is not installed (apt-get install chromium); the browser tests need it")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        yield launched
        launched.close()


class Watched:
    """A page that records console errors, uncaught exceptions and any request to another host."""

    def __init__(self, browser: Any, base: str) -> None:
        self.base = base
        self.context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.route("**/*", self._local_only)

    def _local_only(self, route: Any) -> None:
        if route.request.url.startswith(self.base):
            route.continue_()
        else:
            self.problems.append(f"fetched from outside: {route.request.url}")
            route.abort()

    def open(self, path: str, shot: str) -> Any:
        self.page.goto(self.base + path)  # waits for the load event: every script and style is in
        if self.page.locator("#graph").count():
            self.page.wait_for_selector("#graph[data-ready='1']")
        self.page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True)
        return self.page

    def unlabelled(self) -> list[str]:
        return self.page.evaluate("""() => [...document.querySelectorAll(
            'input:not([type=hidden]), select, textarea, button, [role=combobox]')].filter(e =>
            !((e.labels && e.labels.length) || e.getAttribute('aria-label') || e.getAttribute('aria-labelledby')
              || (e.tagName === 'BUTTON' && e.textContent.trim()))).map(e => e.outerHTML.slice(0, 120))""")


@pytest.fixture
def watched(browser: Any, server: str) -> Iterator[Watched]:
    w = Watched(browser, server)
    yield w
    w.context.close()
    assert not w.problems, w.problems


PAGES = [("/", "home"), ("/trace?uid={unit}&direction=backward", "trace-backward"),
         ("/trace?uid={cause}&direction=forward", "trace-forward"), ("/entity?uid={unit}", "entity-unit"),
         ("/entity?uid=equipment:PRESS-02", "entity-machine"), ("/contain?uid={cause}", "contain"),
         ("/rca?defect_code={code}", "rca"), ("/ask", "ask"), ("/ingest", "ingest"), ("/search?q=压装", "search"),
         ("/entity?uid=equipment:PRESS-02&category=alarm", "entity-machine-alarms"), ("/login", "login"),
         ("/trace?uid=unit:NOPE", "error"), ("/?lang=en", "home-en"), ("/?lang=zh", "home-zh")]


def test_every_page_loads_labelled_and_keyboard_ready(watched: Watched, defective: str) -> None:
    for path, shot in PAGES:
        page = watched.open(path.format(unit=defective, cause=CAUSE, code=CODE), shot)
        assert not watched.unlabelled(), (path, watched.unlabelled())
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip", path
        watched.problems = [p for p in watched.problems if "404" not in p or shot != "error"]
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    docs = watched.open("/docs", "api-docs")
    docs.wait_for_selector(".swagger-ui .opblock")


def test_search_for_a_defective_unit_draws_its_lots_and_machines(watched: Watched, defective: str) -> None:
    page = watched.open("/", "search-start")
    box = page.get_by_role("combobox", name=re.compile("搜索"))
    box.fill(defective.partition(":")[2])
    page.wait_for_selector("#q-list li[role=option]")
    box.press("ArrowDown")
    assert page.get_attribute("#q-list li:first-child", "aria-selected") == "true"
    box.press("Enter")
    page.wait_for_url(re.compile(r"/entity\?uid="))
    page.get_by_role("link", name="反向追溯").click()
    page.wait_for_selector("#graph[data-ready='1']")
    page.screenshot(path=str(SHOTS / "search-trace.png"), full_page=True)
    legend = page.inner_text("#legend")
    assert "物料批次" in legend and "设备" in legend and "供应商" in legend
    assert int(page.get_attribute("#graph", "data-nodes") or 0) > 10
    assert page.locator(f"a[href='/entity?uid={CAUSE.replace(':', '%3A')}']").count()  # the bad lot in the table
    group = page.locator("#groups button[aria-pressed='true']", has_text=re.compile(r"\((?:[2-9]|\d{2,})\)")).first
    group.focus()
    before = int(page.get_attribute("#graph", "data-nodes") or 0)
    page.keyboard.press("Enter")  # collapse a level from the keyboard
    page.wait_for_function(f"document.getElementById('graph').dataset.nodes != '{before}'")
    page.get_by_role("button", name=re.compile("PNG")).click()


def test_forward_trace_of_the_bad_lot_starts_collapsed_and_expands(watched: Watched) -> None:
    page = watched.open(f"/trace?uid={CAUSE}&direction=forward", "trace-forward-collapsed")
    collapsed = page.locator("#groups button[aria-pressed='false']").first
    assert collapsed.count()
    before = int(page.get_attribute("#graph", "data-nodes") or 0)
    collapsed.press("Enter")
    page.wait_for_function(f"Number(document.getElementById('graph').dataset.nodes) > {before}")
    page.screenshot(path=str(SHOTS / "trace-forward-expanded.png"), full_page=True)


def test_rca_ranks_the_injected_cause_first(watched: Watched) -> None:
    page = watched.open(f"/rca?defect_code={CODE}", "rca-run")
    first = page.locator("#causes tbody tr").first
    assert CAUSE in (first.locator("a").first.get_attribute("href") or "").replace("%3A", ":")
    assert page.locator(".chart svg").count() == 2
    assert page.locator("details[open] .chain a").count()  # evidence paths of the top cause
    page.get_by_role("link", name="8D 报告", exact=True).click()
    page.wait_for_url(re.compile(r"/rca/report\?"))
    assert CAUSE.partition(":")[2] in page.content()


def test_the_chat_answers_with_a_citation(watched: Watched) -> None:
    page = watched.open("/ask", "ask-start")
    page.get_by_label("问题").fill("2号压装机最近有哪些故障？")
    page.keyboard.press("Enter")
    citation = page.locator("#chat li.bot .citations a").first
    citation.wait_for()
    page.screenshot(path=str(SHOTS / "ask-answered.png"), full_page=True)
    target = citation.get_attribute("href")
    citation.click()
    page.wait_for_url(re.compile(re.escape(target or "/entity")))
    assert page.locator("h1").count()


def test_a_csv_upload_shows_progress_and_result(watched: Watched, store: Store, tmp_path: Path) -> None:
    page = watched.open("/login?next=/ingest", "login-form")
    page.get_by_label("API 密钥").fill(ingest_key(store))
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/ingest$"))
    table = tmp_path / "suppliers.csv"
    table.write_text("supplier_id,name,country\nSUP-97,浏览器上传供应商,中国\n", encoding="utf-8")
    page.get_by_label("CSV、Excel 表或 EPCIS（JSON/XML）文件").set_input_files(str(table))
    page.get_by_label("抽取新维修记录中的信息").uncheck()
    page.get_by_role("button", name="上传文件").click()
    page.wait_for_selector("#upload-done")
    assert page.get_attribute("#upload-progress", "value") == "100"
    assert "新增节点 1" in page.inner_text("#upload-status")
    page.screenshot(path=str(SHOTS / "ingest-uploaded.png"), full_page=True)
    assert store.node("supplier:SUP-97").name == "浏览器上传供应商"

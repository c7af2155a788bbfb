"""The workbench's two languages: Chinese by default, English by ``?lang=en`` (kept in a cookie)."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request

LANGS = ("zh", "en")
COOKIE = "zhuisu_lang"

# key → (中文, English). Templates call t("key"); a missing key is a bug that the tests catch (KeyError).
TEXT: dict[str, tuple[str, str]] = {
    "app": ("追溯 · 质量工作台", "zhuisu · quality workbench"),
    "skip": ("跳到主要内容", "Skip to main content"),
    "nav": ("主导航", "Main navigation"),
    "home": ("首页", "Home"),
    "trace": ("追溯", "Trace"),
    "contain": ("围堵", "Containment"),
    "rca": ("根因分析", "Root cause"),
    "ask": ("维修助手", "Assistant"),
    "ingest": ("数据导入", "Ingest"),
    "entity": ("实体", "Entity"),
    "api_docs": ("接口文档", "API docs"),
    "language": ("语言", "Language"),
    "search": ("搜索", "Search"),
    "search_label": ("搜索产品序列号、批次、设备、供应商…", "Search serials, lots, machines, suppliers…"),
    "search_hint": ("输入 uid、序列号、批次号或设备名称（如“2号压装机”），允许错别字；用 ↑↓ 选择，回车打开。",
                    "Type a uid, serial, lot number or machine name (e.g. “2号压装机”); typos are tolerated. "
                    "Use ↑↓ to choose, Enter to open."),
    "suggestions": ("搜索建议", "Suggestions"),
    "no_match": ("没有匹配的实体", "No matching entity"),
    "corrected": ("已按近似匹配", "Close matches"),
    "results": ("搜索结果", "Search results"),
    "welcome": ("从一个不良产品、可疑批次或缺陷代码开始。",
                "Start from a defective unit, a suspect lot or a defect code."),
    "store": ("数据库", "Store"),
    "counts": ("图谱规模", "Graph size"),
    "nodes": ("节点", "Nodes"),
    "edges": ("关系", "Edges"),
    "batches": ("批次", "Batches"),
    "aliases": ("别名", "Aliases"),
    "uid": ("标识 uid", "uid"),
    "kind": ("类型", "Kind"),
    "name": ("名称", "Name"),
    "level": ("层级", "Level"),
    "direction": ("方向", "Direction"),
    "backward": ("反向（来源）", "Backward (sources)"),
    "forward": ("正向（去向）", "Forward (destinations)"),
    "since": ("起始日期", "From date"),
    "until": ("截止日期", "Until date"),
    "run": ("查询", "Run"),
    "graph": ("追溯图", "Trace graph"),
    "graph_help": ("单击节点查看详情，双击折叠组展开；方向键平移，+/- 缩放。下方“层级”列表可用键盘展开或折叠。",
                   "Click a node for details, double-click a collapsed group to expand it; arrow keys pan, +/- "
                   "zoom. The level list below expands and collapses groups from the keyboard."),
    "legend": ("图例", "Legend"),
    "levels": ("层级与分组", "Levels and groups"),
    "expand": ("展开", "Expand"),
    "collapse": ("折叠", "Collapse"),
    "collapsed_note": ("大的层级已折叠为分组；展开后每组最多显示 {n} 个节点，其余见表格。",
                       "Large levels are collapsed into groups; an expanded group draws at most {n} nodes, the "
                       "table has the rest."),
    "table": ("表格", "Table"),
    "steps": ("工序", "Steps"),
    "export": ("导出", "Export"),
    "export_png": ("导出 PNG", "Export PNG"),
    "material": ("物料", "Material"),
    "amount": ("数量", "Amount"),
    "inspections": ("检验", "Inspections"),
    "operation": ("工序作业", "Operation"),
    "step": ("工步", "Step"),
    "time": ("时间", "Time"),
    "equipment": ("设备", "Equipment"),
    "operators": ("操作员", "Operators"),
    "tools": ("工装", "Tools"),
    "parameters": ("工艺参数", "Parameters"),
    "inputs": ("投入", "Inputs"),
    "outputs": ("产出", "Outputs"),
    "page": ("第 {a}–{b} 行，共 {n} 行", "Rows {a}–{b} of {n}"),
    "prev": ("上一页", "Previous"),
    "next": ("下一页", "Next"),
    "pager": ("分页", "Pages"),
    "stats": ("{nodes} 个节点、{edges} 条关系、{steps} 道工序，用时 {ms} 毫秒",
              "{nodes} nodes, {edges} edges, {steps} steps in {ms} ms"),
    "details": ("详情", "Details"),
    "open_entity": ("打开实体页", "Open entity page"),
    "trace_back": ("反向追溯", "Trace backward"),
    "trace_fwd": ("正向追溯", "Trace forward"),
    "contain_it": ("围堵分析", "Contain"),
    "attributes": ("属性", "Attributes"),
    "timeline": ("事件时间线", "Timeline of events"),
    "neighbours": ("相邻节点", "Neighbours"),
    "relation": ("关系", "Relation"),
    "event": ("事件", "Event"),
    "category": ("类别", "Category"),
    "all": ("全部", "All"),
    "production": ("生产", "Production"),
    "inspection": ("检验", "Inspection"),
    "alarm": ("报警", "Alarm"),
    "maintenance": ("维修", "Maintenance"),
    "shipment": ("发货", "Shipment"),
    "complaint": ("投诉", "Complaint"),
    "outgoing": ("指向", "to"),
    "incoming": ("来自", "from"),
    "count": ("数量", "Count"),
    "more": ("另有 {n} 个", "{n} more"),
    "none": ("无", "None"),
    "suspect": ("可疑对象 uid", "Suspect uid"),
    "affected": ("受影响的批次与产品", "Affected lots and units"),
    "status": ("状态", "Status"),
    "quantity": ("数量", "Quantity"),
    "customers": ("客户", "Customers"),
    "shipments": ("发货单", "Shipments"),
    "items": ("件数", "Items"),
    "defects": ("缺陷", "Defects"),
    "contain_summary": ("共 {items} 个批次/产品受影响，{shipments} 张发货单，{customers} 个客户",
                        "{items} lots/units affected, {shipments} shipments, {customers} customers"),
    "defect_code": ("缺陷代码", "Defect code"),
    "units_list": ("或不良品清单（每行一个 uid）", "Or a list of defective items (one uid a line)"),
    "causes": ("根因排序", "Ranked causes"),
    "rank": ("排名", "Rank"),
    "factor": ("因素", "Factor"),
    "exposed": ("暴露数", "Exposed"),
    "defective": ("不良数", "Defective"),
    "rates": ("不良率 有/无", "Rate with/without"),
    "lift": ("倍数", "Lift"),
    "verdict": ("结论", "Verdict"),
    "evidence": ("证据", "Evidence"),
    "paths": ("证据路径", "Evidence paths"),
    "notes": ("维修记录", "Maintenance notes"),
    "alarms": ("报警", "Alarms"),
    "readings": ("测量值", "Readings"),
    "charts": ("图表", "Charts"),
    "report": ("8D 报告", "8D report"),
    "report_xlsx": ("8D 报告（Excel）", "8D report (Excel)"),
    "problem": ("问题描述", "Problem"),
    "population": ("对比总体", "Population"),
    "defect_rate": ("不良率", "Defect rate"),
    "sampled": ("对照为随机抽样：总体 {n} 件中的所有不良品与随机抽取的良品（病例对照），计数与比率均为样本值。",
                "Controls are a random sample: every defective item and a random sample of the others among {n} "
                "items (case-control); counts and rates are of the sample."),
    "question": ("问题", "Question"),
    "send": ("发送", "Send"),
    "chat": ("对话", "Conversation"),
    "ask_hint": ("例如：2号压装机最近有哪些故障？ 主轴异响一般怎么处理？",
                 "For example: 2号压装机最近有哪些故障？ 主轴异响一般怎么处理？"),
    "citations": ("引用", "Citations"),
    "thinking": ("正在查询…", "Looking it up…"),
    "new_chat": ("新对话", "New conversation"),
    "sources": ("数据源与连接器", "Sources and connectors"),
    "connectors": ("连接器", "Connectors"),
    "no_connectors": ("本服务未运行连接器（zhuisu serve --sql / --mqtt）。",
                      "This server runs no connectors (zhuisu serve --sql / --mqtt)."),
    "running": ("运行中", "Running"),
    "stopped": ("已停止", "Stopped"),
    "last_error": ("最近错误", "Last error"),
    "errors": ("最近的错误", "Recent errors"),
    "no_errors": ("没有错误记录。", "No errors recorded."),
    "recent": ("最近导入的批次", "Recent batches"),
    "source": ("来源", "Source"),
    "received": ("接收时间", "Received"),
    "by_kind": ("各类节点数", "Nodes by kind"),
    "upload": ("上传文件", "Upload files"),
    "upload_files": ("CSV、Excel 表或 EPCIS（JSON/XML）文件", "CSV, Excel or EPCIS (JSON/XML) files"),
    "upload_help": ("表文件按规范表名命名（lots.csv、operations.xlsx…，见 docs/formats.md）；导出文件可附映射文件。",
                    "Name table files after the canonical tables (lots.csv, operations.xlsx…, docs/formats.md); "
                    "system exports can come with a mapping file."),
    "mapping": ("映射文件 mapping.toml（可选）", "Mapping file mapping.toml (optional)"),
    "nlp": ("抽取新维修记录中的信息", "Read new maintenance notes"),
    "progress": ("上传进度", "Upload progress"),
    "processing": ("已上传，正在导入…", "Uploaded; importing…"),
    "done": ("导入完成", "Imported"),
    "failed": ("导入失败", "Import failed"),
    "skipped": ("已导入过，未变化", "already imported, unchanged"),
    "added": ("新增节点 {n}、关系 {e}", "{n} nodes and {e} edges added"),
    "need_key": ("上传需要具有 ingest 权限的 API 密钥。", "Uploading needs an API key with the ingest scope."),
    "login": ("输入 API 密钥", "Enter API key"),
    "logout": ("退出", "Sign out"),
    "signed_in": ("已使用密钥 {name}（{scopes}）", "Using key {name} ({scopes})"),
    "key": ("API 密钥", "API key"),
    "key_help": ("用 zhuisu apikey create --name 姓名 --scope ingest 创建；密钥只保存在本浏览器的 HttpOnly Cookie 中。",
                 "Create one with zhuisu apikey create --name NAME --scope ingest; it is kept only in this "
                 "browser's HttpOnly cookie."),
    "sign_in": ("登录", "Sign in"),
    "bad_key": ("API 密钥无效或已吊销。", "The API key is unknown, malformed or revoked."),
    "error": ("出错了", "Something went wrong"),
    "back": ("返回首页", "Back to the home page"),
    "not_found_page": ("没有这个页面：{path}", "No such page: {path}"),
    "give_uid": ("请输入 uid，或用上方搜索框查找。", "Enter a uid, or find one with the search box above."),
}

# What the pages' scripts say (sent with each page as JSON).
SCRIPT = ("suggestions", "no_match", "expand", "collapse", "open_entity", "trace_back", "trace_fwd", "contain_it",
          "more", "citations", "thinking", "processing", "done", "failed", "skipped", "added", "progress", "kind",
          "level", "uid", "name", "error", "table")


def language(request: Request) -> str:
    """``?lang=`` first (the page then sets the cookie), else the cookie, else Chinese."""
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return asked
    kept = request.cookies.get(COOKIE)
    return kept if kept in LANGS else "zh"


def translator(lang: str) -> Callable[..., str]:
    """``t(key, **values)`` in ``lang``."""
    index = LANGS.index(lang)

    def t(key: str, **values: object) -> str:
        text = TEXT[key][index]
        return text.format(**values) if values else text

    return t

"""A self-contained HTML segment report (Plotly, rendered offline) written into each publication."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from orchestration.db import connect

STYLE = """
body{font-family:"Noto Sans","WenQuanYi Micro Hei","Microsoft YaHei",sans-serif;margin:24px;color:#222}
h1{margin-bottom:4px} .meta{color:#555;margin-bottom:24px}
section{margin:28px 0} table{border-collapse:collapse;font-size:14px}
td,th{border:1px solid #ccc;padding:4px 10px;text-align:right} td:first-child,th:first-child{text-align:left}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:16px}
"""


def _table(headers: list[str], rows: list[tuple]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _chart(figure: go.Figure, chart_id: str) -> str:
    figure.update_layout(margin={"l": 50, "r": 20, "t": 50, "b": 50}, height=380, template="plotly_white")
    return figure.to_html(full_html=False, include_plotlyjs=False, div_id=chart_id,
                          config={"displaylogo": False, "responsive": True})


def build_report(bi_file: Path, out: Path, docs_link: str | None = "docs/index.html") -> Path:
    """Read the publication's own tables and write report.html next to them."""
    with connect(bi_file, read_only=True) as con:
        q = con.execute
        as_of, customers, currency = q(
            "select max(as_of_date), count(*), any_value(currency) from customer_segments").fetchone()
        segments = q("""
            select s.segment, coalesce(s.label_zh, s.segment), s.customers, s.share_of_customers, s.share_of_revenue
            from segment_summary as s where s.dimension = 'business_segment' order by s.customers desc""").fetchall()
        rf = q("select r_score, f_score, count(*) from customer_segments group by all").fetchall()
        tiers = q("""
            select lifecycle_stage, value_tier, count(*) from customer_segments group by all
            order by lifecycle_stage, value_tier""").fetchall()
        clv = [v for (v,) in q("select cast(clv as double) from customer_segments").fetchall()]
        tags = q("""
            select tag, count(*) from customer_tags where tag_status = 'active'
            group by tag order by count(*) desc, tag limit 15""").fetchall()
        audit = q("""
            select entity, sum(rows_read), sum(rows_accepted), sum(rows_quarantined), sum(rows_duplicate)
            from load_audit group by entity order by entity""").fetchall()
        audiences = q("select audience, members, opted_out_excluded, exported from audience_summary "
                      "order by audience").fetchall()

    sizes = go.Figure([
        go.Bar(name="share of customers 客户占比", x=[s[0] for s in segments], y=[s[3] for s in segments]),
        go.Bar(name="share of revenue 收入占比", x=[s[0] for s in segments], y=[s[4] for s in segments]),
    ])
    sizes.update_layout(title="Business segments 业务分群", barmode="group", yaxis_tickformat=".0%")
    counts = {(r, f): n for r, f, n in rf}
    heat = go.Figure(go.Heatmap(
        z=[[counts.get((r, f), 0) for f in range(1, 6)] for r in range(1, 6)],
        x=[f"F{f}" for f in range(1, 6)], y=[f"R{r}" for r in range(1, 6)], colorscale="Blues"))
    heat.update_layout(title="Recency × frequency 最近购买 × 购买频率")
    stages = ["prospect", "new", "active", "silent", "churned"]
    per_cell = {(stage, tier): n for stage, tier, n in tiers}
    by_stage = go.Figure([
        go.Bar(name=tier, x=stages, y=[per_cell.get((stage, tier), 0) for stage in stages])
        for tier in ("high", "mid", "low")
    ])
    by_stage.update_layout(title="Value tier by lifecycle stage 生命周期 × 价值分层", barmode="stack")
    clv_chart = go.Figure(go.Histogram(x=clv, nbinsx=40))
    clv_chart.update_layout(title=f"CLV distribution 客户终身价值分布 ({currency})")
    tag_chart = go.Figure(go.Bar(x=[n for _, n in tags], y=[t for t, _ in tags], orientation="h"))
    tag_chart.update_layout(title="Top active tags 热门标签", yaxis={"autorange": "reversed"})

    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    docs = f' · <a href="{docs_link}">data dictionary 数据字典 (dbt docs)</a>' if docs_link else ""
    quality = ' · <a href="quality/index.html">data quality 数据质量</a>' if (out / "quality").is_dir() else ""
    page = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>Customer segments 客户分群报告 {as_of}</title>
<style>{STYLE}</style>
<script type="text/javascript">{get_plotlyjs()}</script>
</head><body>
<h1>Customer segment report 客户分群报告</h1>
<div class="meta">As of 截至 <b>{as_of}</b> · {customers} customers 客户 · run 生成于 {generated}{docs}
{quality}</div>
<section class="grid">
<div>{_chart(sizes, "chart-segments")}</div>
<div>{_chart(heat, "chart-rf-heatmap")}</div>
<div>{_chart(by_stage, "chart-tier-by-stage")}</div>
<div>{_chart(clv_chart, "chart-clv")}</div>
<div>{_chart(tag_chart, "chart-tags")}</div>
<div><h2>Segments 分群</h2>{_table(
        ["segment", "中文", "customers 客户数", "share 占比", "revenue share 收入占比"],
        [(s, zh, n, f"{c:.1%}", f"{r:.1%}") for s, zh, n, c, r in segments])}</div>
</section>
<section><h2>Load audit and quarantine 数据加载与隔离</h2>{_table(
        ["entity 实体", "read 读取", "accepted 接受", "quarantined 隔离", "duplicates 重复"], audit)}</section>
<section><h2>Audiences 营销人群</h2>{_table(
        ["audience 人群", "members 成员", "opted out 退订", "exported 导出"], audiences)}</section>
</body></html>"""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path

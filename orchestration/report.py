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
        mining = _mining(q)
        dynamics = _dynamics(q)

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
{_mining_sections(mining, currency)}
{_dynamics_sections(dynamics)}
<section><h2>Load audit and quarantine 数据加载与隔离</h2>{_table(
        ["entity 实体", "read 读取", "accepted 接受", "quarantined 隔离", "duplicates 重复"], audit)}</section>
<section><h2>Audiences 营销人群</h2>{_table(
        ["audience 人群", "members 成员", "opted out 退订", "exported 导出"], audiences)}</section>
</body></html>"""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


# customers drawn in the predicted-vs-historic scatter: enough to see the shape, few enough for a light page
SCATTER_POINTS = 3000


def _mining(q) -> dict:
    """What the report shows of the models: predicted vs historic CLV, the backtest, clusters, explained segments
    and the strongest product pairs, each with the reason where a model could not be fitted."""
    return {
        "clv": q(f"""
            select cast(clv as double), cast(predicted_clv_12m as double), business_segment from customer_segments
            where predicted_clv_12m is not null order by hash(customer_id), customer_id
            limit {SCATTER_POINTS}""").fetchall(),
        "clv_reasons": q("select distinct model, reason from clv_model_fit where reason is not null "
                         "order by model").fetchall(),
        "backtest": q("select decile, customers, predicted_purchases, actual_purchases, calibration_end, reason "
                      "from clv_backtest order by decile nulls last").fetchall(),
        "clusters": q("""
            select cluster, label, customers, share_of_customers, mean_recency_days, mean_frequency, mean_monetary,
                mean_avg_order_value, silhouette, reason
            from cluster_profiles order by cluster""").fetchall(),
        "rules": q("""
            select target, segment, rule, customers, correct, fidelity, reason from segment_rules_explained
            order by target = 'cluster', target, rule_id""").fetchall(),
        "pairs": q("""
            select segment, antecedent, consequent, orders, support, confidence, lift from product_associations
            where item_type = 'product' and antecedent < consequent
            order by lift desc, orders desc, segment, antecedent, consequent limit 10""").fetchall(),
    }


def _mining_sections(mining: dict, currency: str) -> str:
    sections = []
    if mining["clv"]:
        scatter = go.Figure(go.Scatter(
            x=[c for c, _, _ in mining["clv"]], y=[p for _, p, _ in mining["clv"]], mode="markers",
            text=[s for _, _, s in mining["clv"]], marker={"size": 5, "opacity": 0.5}))
        scatter.update_layout(title="Predicted 12-month CLV vs historic CLV 预测与历史客户价值",
                              xaxis_title=f"historic CLV 历史 ({currency})",
                              yaxis_title=f"predicted next 12 months 预测未来12个月 ({currency})")
        clv_part = _chart(scatter, "chart-clv-predicted")
    else:
        clv_part = "<p>No predicted CLV: " + html.escape(
            "; ".join(f"{model} {reason}" for model, reason in mining["clv_reasons"]) or "no customer") + "</p>"
    deciles = [row for row in mining["backtest"] if row[0] is not None]
    total = [row for row in mining["backtest"] if row[0] is None]
    if deciles:
        backtest = go.Figure([
            go.Bar(name="predicted 预测", x=[d[0] for d in deciles], y=[d[2] for d in deciles]),
            go.Bar(name="actual 实际", x=[d[0] for d in deciles], y=[d[3] for d in deciles]),
        ])
        backtest.update_layout(title=f"Backtest: purchases since {deciles[0][4]} 回测", barmode="group",
                               xaxis_title="decile of expected purchases (1 = most) 预期购买十分位")
        _, customers, predicted, actual, _, _ = total[0] if total else (None, 0, None, None, None, None)
        backtest_part = _chart(backtest, "chart-backtest") + (
            f"<p>In total 合计: {customers} customers predicted {predicted:.0f} purchase days, "
            f"{actual:.0f} happened ({predicted / actual - 1:+.1%}).</p>" if predicted is not None and actual else "")
    else:
        backtest_part = "<p>No backtest: " + html.escape(str(total[0][5] if total else "no data")) + "</p>"
    sections.append(f'<section class="grid"><div>{clv_part}</div><div>{backtest_part}</div></section>')
    clusters = [row for row in mining["clusters"] if row[0] is not None]
    if clusters:
        sections.append("<section><h2>Behavioural clusters 行为聚类</h2>" + _table(
            ["cluster 聚类", "label 描述", "customers 客户数", "share 占比", "recency days 最近购买天数",
             "orders 订单数", f"spend 消费 ({currency})", "avg order 客单价"],
            [(c, label, n, f"{share:.1%}", f"{r:.0f}", f"{f:.1f}", f"{m:,.0f}", f"{a:,.0f}")
             for c, label, n, share, r, f, m, a, _, _ in clusters])
            + f"<p>silhouette {clusters[0][8]:.3f}</p></section>")
    else:
        reason = mining["clusters"][0][9] if mining["clusters"] else "no data"
        sections.append(f"<section><h2>Behavioural clusters 行为聚类</h2><p>No clusters: {html.escape(reason)}</p>"
                        "</section>")
    if mining["rules"]:
        sections.append("<section><h2>Segments explained 分群规则解释</h2>" + _table(
            ["explains 解释", "segment 分群", "rule 规则", "customers 客户数", "correct 正确", "fidelity 保真度"],
            [(t, s, r if r else f"not explained: {why}", n, c if c is not None else "",
              f"{f:.1%}" if f is not None else "") for t, s, r, n, c, f, why in mining["rules"]]) + "</section>")
    if mining["pairs"]:
        sections.append("<section><h2>Products bought together 关联商品 (top 10 by lift)</h2>" + _table(
            ["segment 分群", "product 商品", "with 搭配", "orders 订单数", "support 支持度", "confidence 置信度",
             "lift 提升度"],
            [(seg, a, c, n, f"{sup:.2%}", f"{conf:.1%}", f"{lift:.2f}")
             for seg, a, c, n, sup, conf, lift in mining["pairs"]]) + "</section>")
    else:
        sections.append("<section><h2>Products bought together 关联商品</h2><p>No product pair passes the "
                        "association thresholds (or there are no order items).</p></section>")
    return "\n".join(sections)


def _dynamics(q) -> dict:
    """How segments change: the business-segment flows of the last period, KPI trends per business segment, and
    the flagged shifts in category demand."""
    return {
        "flows": q("""
            select coalesce(from_segment, 'new sign-ups'), to_segment, customers, period_start, period_end
            from segment_transitions
            where dimension = 'business_segment' and period_end = (select max(period_end) from segment_transitions)
            order by 1, 2""").fetchall(),
        "kpis": q("""
            select segment, period_start, repurchase_rate, retention_rate from segment_kpis
            where dimension = 'business_segment' order by segment, period_start""").fetchall(),
        "shifts": q("""
            select category, segment, compared_with, buyers_now, buyers_before, share_before, share_now, z, direction
            from category_trends where flagged
            order by segment != 'all', abs(z) desc, category, segment, compared_with limit 15""").fetchall(),
    }


def _dynamics_sections(dynamics: dict) -> str:
    parts = []
    flows = dynamics["flows"]
    if flows:
        sources = sorted({f for f, *_ in flows})
        targets = sorted({t for _, t, *_ in flows})
        labels = [f"{s} ({flows[0][3]})" for s in sources] + [f"{t} ({flows[0][4]})" for t in targets]
        sankey = go.Figure(go.Sankey(
            node={"label": labels, "pad": 12},
            link={"source": [sources.index(f) for f, *_ in flows],
                  "target": [len(sources) + targets.index(t) for _, t, *_ in flows],
                  "value": [n for _, _, n, *_ in flows]}))
        sankey.update_layout(title="Business segment flows, last period 业务分群迁移")
        parts.append(f"<div>{_chart(sankey, 'chart-transitions')}</div>")
    kpis = dynamics["kpis"]
    if kpis:
        trend = go.Figure([
            go.Scatter(name=segment, mode="lines+markers",
                       x=[str(p) for s, p, *_ in kpis if s == segment], y=[r for s, _, _, r in kpis if s == segment])
            for segment in sorted({s for s, *_ in kpis})
        ])
        trend.update_layout(title="Retention by business segment 各分群留存率", yaxis_tickformat=".0%",
                            xaxis_title="period start 周期开始")
        parts.append(f"<div>{_chart(trend, 'chart-kpi-trends')}</div>")
    sections = [f'<section class="grid">{"".join(parts)}</section>'] if parts else []
    if dynamics["shifts"]:
        sections.append("<section><h2>Demand shifts 需求变化</h2>" + _table(
            ["category 品类", "segment 分群", "compared with 对比", "buyers now 当前买家", "buyers before 之前买家",
             "share before 之前占比", "share now 当前占比", "z", "direction 方向"],
            [(c, seg, w, n, b, f"{before:.1%}", f"{now:.1%}", f"{z:+.2f}", d)
             for c, seg, w, n, b, before, now, z, d in dynamics["shifts"]]) + "</section>")
    else:
        sections.append("<section><h2>Demand shifts 需求变化</h2><p>No category's share of buyers changed "
                        "significantly (category_trends).</p></section>")
    return "\n".join(sections)

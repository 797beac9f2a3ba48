"""Product associations: a pair of products planted in many baskets comes out on top by lift, with the support,
confidence and lift counted here from the landed files."""

from __future__ import annotations

import random
from itertools import permutations

import pytest

from orchestration.settings import DEFAULTS
from tests.conftest import query, run_cli, write_csv

PRODUCTS = [f"P{i:02d}" for i in range(1, 21)]
PLANTED = ("P07", "P13")


def land_baskets(landing, orders: int = 1500, seed: int = 11) -> list[tuple[str, set[str]]]:
    """Orders of 1-3 random products; one in five also holds the planted pair. Returns each order's customer and
    basket."""
    rng = random.Random(seed)
    customers = [f"C{i:03d}" for i in range(80)]
    baskets = []
    for _ in range(orders):
        basket = set(rng.sample(PRODUCTS, rng.randint(1, 3)))
        if rng.random() < 0.2:
            basket |= set(PLANTED)
        baskets.append(basket)
    write_csv(landing / "customers.csv", ["customer_id", "signup_ts"], [[c, "2024-01-01T00:00:00"] for c in customers])
    write_csv(landing / "products.csv", ["product_id", "product_name", "category"],
              [[p, f"product {p}", f"cat{int(p[1:]) % 4}"] for p in PRODUCTS])
    write_csv(landing / "orders.csv",
              ["order_id", "customer_id", "order_ts", "status", "currency", "total_amount", "channel"],
              [[f"O{n:05d}", customers[n % len(customers)], f"2025-{1 + n % 12:02d}-{1 + n % 28:02d}T10:00:00",
                "completed", "CNY", f"{10 * len(basket)}.00", "online"] for n, basket in enumerate(baskets)])
    write_csv(landing / "order_items.csv", ["order_id", "line_no", "product_id", "quantity", "unit_price"],
              [[f"O{n:05d}", line, product, 1, "10.00"]
               for n, basket in enumerate(baskets) for line, product in enumerate(sorted(basket), start=1)])
    return [(customers[n % len(customers)], basket) for n, basket in enumerate(baskets)]


def kept_pairs(baskets: list[set[str]]) -> set[tuple[str, str]]:
    """The product pairs that pass the thresholds of dbt_project.yml, counted from the baskets."""
    n, kept = len(baskets), set()
    for antecedent, consequent in permutations(PRODUCTS, 2):
        both = sum(antecedent in b and consequent in b for b in baskets)
        lift = both * n / max(sum(antecedent in b for b in baskets) * sum(consequent in b for b in baskets), 1)
        if both >= 5 and both / n >= 0.001 and lift >= 1.2:
            kept.add((antecedent, consequent))
    return kept


@pytest.fixture(scope="module")
def associations(tmp_path_factory):
    root = tmp_path_factory.mktemp("baskets")
    baskets = land_baskets(root / "landing")
    env = {**{key: "" for key in DEFAULTS}, "SEGMENTS_LANDING_DIR": str(root / "landing"),
           "SEGMENTS_WAREHOUSE": str(root / "warehouse.duckdb"), "SEGMENTS_PUBLISH_DIR": str(root / "publish"),
           "SEGMENTS_AS_OF": "2025-12-31"}
    result = run_cli("run", "--quiet", cwd=root, env=env)
    assert result.returncode == 0, result.stderr
    return root / "publish" / "bi.duckdb", baskets


def test_the_planted_pair_tops_the_product_rules_by_lift_with_the_measures_counted_from_the_baskets(associations):
    bi_file, owned = associations
    baskets = [basket for _, basket in owned]
    rules = query(bi_file, "select antecedent, consequent, orders, support, confidence, lift from product_associations "
                           "where segment = 'all' and item_type = 'product' order by lift desc, antecedent, consequent")
    assert {rules[0][:2], rules[1][:2]} == set(permutations(PLANTED))
    n = len(baskets)
    for antecedent, consequent, orders, support, confidence, lift in rules:
        both = sum(antecedent in b and consequent in b for b in baskets)
        with_antecedent = sum(antecedent in b for b in baskets)
        with_consequent = sum(consequent in b for b in baskets)
        assert orders == both
        assert support == pytest.approx(both / n, abs=1e-6)
        assert confidence == pytest.approx(both / with_antecedent, abs=1e-6)
        assert lift == pytest.approx(both * n / (with_antecedent * with_consequent), abs=1e-6)
        assert orders >= 5 and lift >= 1.2  # the thresholds (dbt_project.yml)


def test_every_pair_past_the_thresholds_is_kept_and_no_other_overall_and_per_segment(associations):
    bi_file, owned = associations
    segment_of = dict(query(bi_file, "select customer_id, business_segment from customer_segments"))
    scopes = {"all": [basket for _, basket in owned]}
    for customer, basket in owned:
        scopes.setdefault(segment_of[customer], []).append(basket)
    published = {}
    for segment, antecedent, consequent in query(
            bi_file, "select segment, antecedent, consequent from product_associations where item_type = 'product'"):
        published.setdefault(segment, set()).add((antecedent, consequent))
    assert len(scopes) > 2  # the landing zone makes several business segments
    assert {segment: kept_pairs(baskets) for segment, baskets in scopes.items() if kept_pairs(baskets)} == published


def test_recommendations_follow_the_rules_and_leave_out_recent_purchases(associations):
    bi_file, owned = associations
    segment_of = dict(query(bi_file, "select customer_id, business_segment from customer_segments"))
    lifts: dict[tuple[str, str, str], float] = {
        (segment, antecedent, consequent): lift for segment, antecedent, consequent, lift in query(
            bi_file, "select segment, antecedent, consequent, lift from product_associations "
                     "where item_type = 'product'")}
    # the orders of land_baskets: order n is dated 2025-(1 + n % 12)-(1 + n % 28); as of 2025-12-31, the last 90 days
    # (recommendation_exclude_days) are the orders after 2025-10-02
    recent: dict[str, set[str]] = {}
    ever: dict[str, set[str]] = {}
    for n, (customer, basket) in enumerate(owned):
        ever.setdefault(customer, set()).update(basket)
        if (1 + n % 12, 1 + n % 28) > (10, 2):
            recent.setdefault(customer, set()).update(basket)
    expected = {}
    for customer, bought in ever.items():
        # the fixture has no events and no interests: every candidate is a product that a kept rule leads to from
        # a product the customer bought, scored by the best such rule of their segment, else of all customers
        scores = {}
        for consequent in set(PRODUCTS) - recent.get(customer, set()):
            for scope in (segment_of[customer], "all"):
                found = [lifts[(scope, a, consequent)] for a in bought if (scope, a, consequent) in lifts]
                if found:
                    scores[consequent] = round(max(found), 6)
                    break
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:5]
        expected.update({(customer, rank): item for rank, item in enumerate(ranked, start=1)})
    recommended = query(bi_file, "select customer_id, rank, item_type, item, score, reason "
                                 "from customer_recommendations")
    assert len(expected) > len(ever)  # most customers get several offers; some products were bought lately
    assert any(len(recent.get(customer, ())) for customer in ever)
    assert {(customer, rank): (item, pytest.approx(score, abs=1e-6))
            for customer, rank, item_type, item, score, reason in recommended if item_type == "product"} == expected
    assert {item_type for *_, item_type, _, _, _ in recommended} == {"product"}
    for customer, _, _, item, score, reason in recommended:
        # "bought P07: 38% of high_value orders with it also hold P13 (lift 2.41)"
        antecedent, scope = reason.split(":")[0].removeprefix("bought "), reason.split("% of ")[1].split(" orders")[0]
        assert antecedent in ever[customer] and scope in (segment_of[customer], "all"), reason
        assert lifts[(scope, antecedent, item)] == pytest.approx(score, abs=1e-6), reason


def test_the_playbook_names_the_strongest_pairs_of_each_segment_to_cross_sell(associations):
    bi_file, _ = associations
    pairs: dict[str, list[tuple[float, str, str]]] = {}
    for segment, antecedent, consequent, lift in query(
            bi_file, "select segment, antecedent, consequent, lift from product_associations "
                     "where item_type = 'product' and antecedent < consequent"):
        pairs.setdefault(segment, []).append((-lift, antecedent, consequent))
    playbook = query(bi_file, "select segment, cross_sell, cross_sell_basis from segment_playbook "
                              "where dimension = 'business_segment'")
    assert playbook
    for segment, cross_sell, basis in playbook:
        scope = segment if segment in pairs else "all"
        top = sorted(pairs[scope])[:3]
        assert basis == ("segment" if scope == segment else "all")
        assert cross_sell == "; ".join(f"product {a} ({a}) + product {c} ({c}), lift {round(-lift, 2)}"
                                       for lift, a, c in top), segment
    assert sorted(pairs["all"])[0][1:] == PLANTED


def test_buyers_as_regular_as_these_still_get_a_clv_backtest_and_predictions(associations):
    """80 customers buying about every three weeks sit at the Poisson limit of BG/NBD, where scipy's 2F1 gives up: the
    backtest and the predictions are still numbers (tests/test_clv.py has the mathematics)."""
    bi_file, _ = associations
    backtest = query(bi_file, "select count(*), count(predicted_purchases), count(reason) from clv_backtest")
    assert backtest == [(11, 11, 0)]
    assert query(bi_file, "select count(*), count(expected_purchases_365d), count(predicted_clv_12m) "
                 "from customer_segments where frequency > 0") == [(80, 80, 80)]
    assert query(bi_file, "select count(value), count(reason) from clv_model_fit where model = 'bgnbd'") == [(4, 0)]

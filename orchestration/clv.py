"""Predicted customer lifetime value: BG/NBD for repeat purchases and P(alive) (Fader, Hardie & Lee 2005, "Counting
your customers the easy way"), Gamma-Gamma for spend per transaction (Fader, Hardie & Lee 2005, "RFM and CLV"), both
fitted by maximum likelihood with analytic gradients on per-customer summaries (DECISIONS.md).

Time is in weeks (days / 7). A customer's summary: x repeat transactions (purchase days after the first one), t_x
the weeks from the first to the last purchase day, T the weeks from the first purchase day to the as-of date, and
m the mean value of the repeat transactions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

WEEKS_PER_MONTH = 365.25 / 12 / 7
BGNBD_PARAMETERS = ("r", "alpha", "a", "b")
GAMMA_GAMMA_PARAMETERS = ("p", "q", "gamma")


@dataclass(frozen=True)
class Fit:
    """One fitted model, or why it was not fitted (`parameters` is then None)."""

    model: str
    parameters: dict[str, float] | None
    log_likelihood: float | None
    customers: int
    reason: str | None = None


def fit_bgnbd(x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray, weights: np.ndarray | None = None,
              min_repeat_buyers: int = 30, min_history_weeks: float = 8.0) -> Fit:
    """BG/NBD by maximum likelihood. `weights` counts the customers sharing a summary (x, t_x, T): grouping them
    first keeps the fit to a few seconds at millions of customers."""
    x, t_x, big_t = (np.asarray(v, dtype=float) for v in (x, t_x, big_t))
    weights = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    customers = int(weights.sum())
    repeat_buyers = int(weights[x > 0].sum())
    if repeat_buyers < min_repeat_buyers:
        return Fit("bgnbd", None, None, customers,
                   f"too few repeat buyers: {repeat_buyers} (needs {min_repeat_buyers})")
    if big_t.max() < min_history_weeks:
        return Fit("bgnbd", None, None, customers,
                   f"history too short: {big_t.max() * 7:.0f} days (needs {min_history_weeks * 7:.0f})")
    repeat = x > 0

    def negative_log_likelihood(log_parameters: np.ndarray) -> tuple[float, np.ndarray]:
        r, alpha, a, b = np.exp(log_parameters)
        first = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        alive = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + big_t)
        # the customer dropped out right after the last purchase (only possible after a repeat purchase)
        dropped = np.full_like(x, -np.inf)
        dropped[repeat] = (betaln(a + 1, b + x[repeat] - 1) - betaln(a, b)
                           - (r + x[repeat]) * np.log(alpha + t_x[repeat]))
        second = np.logaddexp(alive, dropped)
        w_alive, w_dropped = np.exp(alive - second), np.exp(dropped - second)
        d_r = digamma(r + x) - digamma(r) + np.log(alpha) - w_alive * np.log(alpha + big_t)
        d_alpha = r / alpha - w_alive * (r + x) / (alpha + big_t)
        d_a = w_alive * (digamma(a + b) - digamma(a + b + x))
        d_b = w_alive * (digamma(b + x) - digamma(a + b + x) - digamma(b) + digamma(a + b))
        d_r[repeat] -= w_dropped[repeat] * np.log(alpha + t_x[repeat])
        d_alpha[repeat] -= w_dropped[repeat] * (r + x[repeat]) / (alpha + t_x[repeat])
        d_a[repeat] += w_dropped[repeat] * (digamma(a + 1) - digamma(a + b + x[repeat]) - digamma(a) + digamma(a + b))
        d_b[repeat] += w_dropped[repeat] * (digamma(b + x[repeat] - 1) - digamma(a + b + x[repeat])
                                            - digamma(b) + digamma(a + b))
        gradient = np.array([weights @ d for d in (d_r, d_alpha, d_a, d_b)]) * np.array([r, alpha, a, b])
        return -float(weights @ (first + second)), -gradient

    return _maximise("bgnbd", BGNBD_PARAMETERS, negative_log_likelihood, customers)


def fit_gamma_gamma(x: np.ndarray, m: np.ndarray, min_repeat_buyers: int = 30) -> Fit:
    """Gamma-Gamma by maximum likelihood over the repeat buyers with a positive mean repeat transaction value."""
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    keep = (x > 0) & (m > 0)
    x, m = x[keep], m[keep]
    if len(x) < min_repeat_buyers:
        return Fit("gamma_gamma", None, None, len(x),
                   f"too few repeat buyers with spend: {len(x)} (needs {min_repeat_buyers})")

    def negative_log_likelihood(log_parameters: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, gamma = np.exp(log_parameters)
        ll = (gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(gamma) + (p * x - 1) * np.log(m)
              + p * x * np.log(x) - (p * x + q) * np.log(gamma + m * x))
        d_p = x * (digamma(p * x + q) - digamma(p * x) + np.log(m) + np.log(x) - np.log(gamma + m * x))
        d_q = digamma(p * x + q) - digamma(q) + np.log(gamma) - np.log(gamma + m * x)
        d_gamma = q / gamma - (p * x + q) / (gamma + m * x)
        gradient = np.array([d_p.sum(), d_q.sum(), d_gamma.sum()]) * np.array([p, q, gamma])
        return -float(ll.sum()), -gradient

    fit = _maximise("gamma_gamma", GAMMA_GAMMA_PARAMETERS, negative_log_likelihood, len(x))
    if fit.parameters and fit.parameters["q"] <= 1:
        # the expected spend p * gamma / (q - 1) has no finite value
        return Fit("gamma_gamma", None, fit.log_likelihood, len(x),
                   f"spend too dispersed to predict (q = {fit.parameters['q']:.3f} <= 1)")
    return fit


def _maximise(model: str, names: tuple[str, ...], negative_log_likelihood, customers: int) -> Fit:
    # imported here: a run without enough data to fit does not pay for it (~0.7 s of every small run)
    from scipy.optimize import minimize

    # log parameters keep every parameter positive; the same start and method give the same fit for the same rows
    start, previous = np.zeros(len(names)), np.inf
    for _ in range(MAX_RESTARTS):
        with np.errstate(all="ignore"):  # a line search may step to parameters that overflow: L-BFGS-B steps back
            result = minimize(negative_log_likelihood, start, jac=True, method="L-BFGS-B",
                              options={"ftol": 1e-14, "gtol": 1e-9, "maxiter": 5000})
        if not np.isfinite(result.fun):
            break
        # a line search that can improve no further at a vanishing gradient is at the optimum: that tolerance is
        # tight. Towards a limit of the model (parameters running off to the millions) the likelihood rises ever
        # more slowly along a ridge where line searches stall: a restart from there (a fresh curvature estimate) that
        # gains nothing at 1e-10 has reached the supremum to double precision.
        at_optimum = np.max(np.abs(result.jac)) <= 1e-6 * max(1.0, abs(result.fun))
        if result.success or at_optimum or previous - result.fun <= 1e-10 * abs(result.fun):
            return Fit(model, dict(zip(names, np.exp(result.x).tolist(), strict=True)), -float(result.fun),
                       customers)
        start, previous = result.x, result.fun
    return Fit(model, None, None, customers, f"maximum likelihood did not converge: {result.message}")


MAX_RESTARTS = 10


def p_alive(bgnbd: dict[str, float], x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray) -> np.ndarray:
    """P(alive | x, t_x, T): 1 without a repeat purchase (BG/NBD customers drop out only right after one)."""
    r, alpha, a, b = (bgnbd[k] for k in BGNBD_PARAMETERS)
    x, t_x, big_t = (np.asarray(v, dtype=float) for v in (x, t_x, big_t))
    with np.errstate(divide="ignore", invalid="ignore"):
        log_odds = np.log(a) - np.log(b + x - 1) + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x))
    return np.where(x > 0, expit(-log_odds), 1.0)


def expected_purchases(bgnbd: dict[str, float], weeks: float, x: np.ndarray, t_x: np.ndarray,
                       big_t: np.ndarray) -> np.ndarray:
    """Expected purchases in the next `weeks` (FHL 2005, eq. 10). The textbook form multiplies
    ((alpha + T) / (alpha + T + t))^(r + x), which underflows, by 2F1(r + x, b + x; a + b + x - 1; z), which
    overflows, for heavy buyers and long horizons; Euler's transformation of 2F1 cancels the two exactly and leaves
    (1 - z)^(a - 1) * 2F1(a + b - 1 - r, a - 1; a + b + x - 1; z), finite for any x and t."""
    r, alpha, a, b = (bgnbd[k] for k in BGNBD_PARAMETERS)
    x, t_x, big_t = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x, t_x, big_t)))
    z = weeks / (alpha + big_t + weeks)
    with np.errstate(all="ignore"):
        remaining = 1 - (1 - z) ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
        alive = np.asarray((a + b + x - 1) / (a - 1) * remaining)
    unsolved = ~np.isfinite(alive)
    if unsolved.any():
        alive = alive.copy()
        alive[unsolved] = _expected_purchases_if_alive_at_the_limits(bgnbd, weeks, x[unsolved], big_t[unsolved])
    return alive * p_alive(bgnbd, x, t_x, big_t)


def _expected_purchases_if_alive_at_the_limits(bgnbd: dict[str, float], weeks: float, x: np.ndarray,
                                               big_t: np.ndarray) -> np.ndarray:
    """The expected purchases of a customer alive at T where scipy's 2F1 gives up: a fit at one of the model's limits
    (DECISIONS.md). Alive, the customer's rate and dropout probability are independent, lambda ~ Gamma(r + x,
    alpha + T) and p ~ Beta(a, b + x), and E[X(t)] = E[(1 - ((alpha + T) / (alpha + T + p t))^(r + x)) / p].
    - Buyers alike (r and alpha in the millions, the Poisson limit): the 2F1 series, summed term by term, settles.
    - Dropout alike (a and b in the hundreds of thousands): Beta(a, b + x) is so narrow that a five-point
      Gauss-Hermite rule around its mean is exact to double precision (checked against the three-point rule).
    NaN where neither applies: the fit then says it is degenerate (fit_models)."""
    r, alpha, a, b = (bgnbd[k] for k in BGNBD_PARAMETERS)
    z = weeks / (alpha + big_t + weeks)
    with np.errstate(all="ignore"):
        series = _hypergeometric_series(a + b - 1 - r, a - 1, a + b + x - 1, z)
        result = (a + b + x - 1) / (a - 1) * (1 - (1 - z) ** (a - 1) * series)
        mean = a / (a + b + x)
        spread = np.sqrt(mean * (1 - mean) / (a + b + x + 1))
        narrow = (spread < 1e-2 * mean) & (mean + 6 * spread < 1)

        def around_the_mean(nodes: tuple[float, ...], weights: tuple[float, ...]) -> np.ndarray:
            return sum(weight * -np.expm1(-(r + x) * np.log1p((mean + node * spread) * weeks / (alpha + big_t)))
                       / (mean + node * spread) for node, weight in zip(nodes, weights, strict=True))

        # Gauss-Hermite rules of three and five points: where they disagree, the Beta is not narrow enough
        three = around_the_mean((-np.sqrt(3), 0, np.sqrt(3)), (1 / 6, 2 / 3, 1 / 6))
        five = around_the_mean(FIVE_POINT_NODES, FIVE_POINT_WEIGHTS)
        rule = np.where(narrow & (np.abs(five - three) <= 1e-10 * np.abs(five)), five, np.nan)
    return np.where(np.isfinite(result), result, rule)


# the five-point Gauss-Hermite rule for a standard normal variable
FIVE_POINT_NODES = (-2.856970013872805635, -1.355626179974265809, 0.0, 1.355626179974265809, 2.856970013872805635)
FIVE_POINT_WEIGHTS = (0.011257411327720688, 0.22207592200561265, 0.53333333333333333, 0.22207592200561265,
                      0.011257411327720688)


def _hypergeometric_series(upper: float, second: float, lower: np.ndarray, z: np.ndarray,
                           max_terms: int = 10_000) -> np.ndarray:
    """2F1(upper, second; lower; z), 0 <= z < 1, summed term by term: NaN where it does not settle, or where the
    terms cancel so much that the sum would keep fewer than half of its digits."""
    total, term, largest = np.ones_like(z), np.ones_like(z), np.ones_like(z)
    for k in range(max_terms):
        term = term * (upper + k) * (second + k) / ((lower + k) * (k + 1)) * z
        total = total + term
        largest = np.maximum(largest, np.abs(term))
        if not (np.abs(term) > 1e-17 * np.abs(total)).any():
            break
    settled = (np.abs(term) <= 1e-17 * np.abs(total)) & (largest <= 1e8 * np.abs(total))
    return np.where(settled, total, np.nan)


def expected_spend(gamma_gamma: dict[str, float], x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Expected value of a future transaction: the population mean for a customer without repeat purchases."""
    p, q, gamma = (gamma_gamma[k] for k in GAMMA_GAMMA_PARAMETERS)
    x = np.asarray(x, dtype=float)
    m = np.where(x > 0, np.nan_to_num(np.asarray(m, dtype=float)), 0.0)
    return p * (gamma + m * x) / (p * x + q - 1)


def predicted_clv(bgnbd: dict[str, float], gamma_gamma: dict[str, float], x: np.ndarray, t_x: np.ndarray,
                  big_t: np.ndarray, m: np.ndarray, months: int = 12,
                  monthly_discount_rate: float = 0.01) -> np.ndarray:
    """Each month's expected purchases times the expected spend, discounted to the as-of date from the month's end."""
    spend = expected_spend(gamma_gamma, x, m)
    total = np.zeros(len(np.atleast_1d(x)))
    before = np.zeros_like(total)
    for month in range(1, months + 1):
        by_then = expected_purchases(bgnbd, month * WEEKS_PER_MONTH, x, t_x, big_t)
        total += (by_then - before) * spend / (1 + monthly_discount_rate) ** month
        before = by_then
    return total


PARAMETERS = {"bgnbd": BGNBD_PARAMETERS, "gamma_gamma": GAMMA_GAMMA_PARAMETERS}


def prediction_horizons(months: int) -> tuple[float, ...]:
    """The horizons in weeks that customer_clv predicts: 90 and 365 days and each month of the CLV."""
    return (90 / 7, 365 / 7, *(month * WEEKS_PER_MONTH for month in range(1, months + 1)))


def fit_models(summaries: pd.DataFrame, min_repeat_buyers: int, min_history_weeks: float,
               horizons_weeks: tuple[float, ...] = prediction_horizons(12)) -> tuple[Fit, Fit]:
    """Both models on the rows of int_customer_purchase_summaries, in an order that depends on the rows only; a
    BG/NBD fit whose expected purchases at `horizons_weeks` are not finite for every row is not kept."""
    summaries = summaries.sort_values("customer_id", kind="stable")
    gamma_gamma = fit_gamma_gamma(summaries["repeat_transactions"], summaries["mean_repeat_value"],
                                  min_repeat_buyers)
    return _fit_bgnbd_on(summaries, min_repeat_buyers, min_history_weeks, horizons_weeks), gamma_gamma


def _fit_bgnbd_on(summaries: pd.DataFrame, min_repeat_buyers: int, min_history_weeks: float,
                  horizons_weeks: tuple[float, ...]) -> Fit:
    grouped = (summaries.groupby(["repeat_transactions", "recency_weeks", "age_weeks"], sort=True)
               .size().reset_index(name="customers"))
    x, t_x, big_t, weights = (grouped[c].to_numpy(dtype=float)
                              for c in ("repeat_transactions", "recency_weeks", "age_weeks", "customers"))
    fit = fit_bgnbd(x, t_x, big_t, weights, min_repeat_buyers, min_history_weeks)
    return keep_if_predictable(fit, x, t_x, big_t, weights, horizons_weeks)


def keep_if_predictable(fit: Fit, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray, weights: np.ndarray,
                        horizons_weeks: tuple[float, ...]) -> Fit:
    """The BG/NBD fit if its expected purchases at every horizon are finite for every summary (x, t_x, T) shared by
    `weights` customers; else no fit, with the reason (a degenerate fit, at a limit of the model that
    expected_purchases cannot evaluate)."""
    if not fit.parameters:
        return fit
    finite = np.logical_and.reduce([np.isfinite(expected_purchases(fit.parameters, weeks, x, t_x, big_t))
                                    for weeks in horizons_weeks])
    if finite.all():
        return fit
    shown = ", ".join(f"{name} = {value:.4g}" for name, value in fit.parameters.items())
    return Fit(fit.model, None, fit.log_likelihood, fit.customers,
               f"degenerate fit ({shown}): the expected purchases of {int(weights[~finite].sum())} customers are "
               "not finite")


def backtest(summaries: pd.DataFrame, min_repeat_buyers: int, min_history_weeks: float,
             holdout_weeks: float) -> pd.DataFrame:
    """BG/NBD fitted on the history up to the cut-off (the summaries' calibration end), its expected purchase days
    in the `holdout_weeks` that followed against the actual ones: per decile of the expectation (1 = the customers
    expected to buy most) and in total (decile NULL). Without a fit, only the total, with the reason."""
    summaries = summaries.sort_values("customer_id", kind="stable").reset_index(drop=True)
    fit = _fit_bgnbd_on(summaries, min_repeat_buyers, min_history_weeks, (holdout_weeks,))
    actual = summaries["later_transactions"].to_numpy(dtype=float)
    total = {"decile": None, "customers": len(summaries), "actual_purchases": actual.sum()}
    if not fit.parameters:
        return _backtest_frame([{**total, "predicted_purchases": None, "reason": fit.reason}])
    expected = expected_purchases(fit.parameters, holdout_weeks, summaries["repeat_transactions"],
                                  summaries["recency_weeks"], summaries["age_weeks"])
    # highest expectation first, a tie going to the customer id: the same rows give the same deciles
    order = np.lexsort((summaries["customer_id"].to_numpy(), -expected))
    decile = np.empty(len(order), dtype=int)
    decile[order] = np.arange(len(order)) * 10 // len(order) + 1
    rows = [{"decile": d, "customers": int((decile == d).sum()), "actual_purchases": actual[decile == d].sum(),
             "predicted_purchases": expected[decile == d].sum(), "reason": None} for d in range(1, 11)]
    return _backtest_frame([*rows, {**total, "predicted_purchases": expected.sum(), "reason": None}])


def _backtest_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["decile", "customers", "predicted_purchases", "actual_purchases", "reason"])
    return frame.astype({"decile": "Int64", "customers": "int64", "predicted_purchases": "float64",
                         "actual_purchases": "float64", "reason": "string"})


def predict(summaries: pd.DataFrame, fits: pd.DataFrame, months: int, monthly_discount_rate: float) -> pd.DataFrame:
    """P(alive), expected purchases in 90 and 365 days and the discounted CLV of the next `months`, per customer;
    NULL where the model they need was not fitted (`fits`: the rows of clv_model_fit)."""
    parameters = {model: dict(zip(rows["parameter"], rows["value"], strict=True))
                  for model, rows in fits.groupby("model")}
    bgnbd = parameters.get("bgnbd", {})
    gamma_gamma = parameters.get("gamma_gamma", {})
    x, t_x, big_t = (summaries[c].to_numpy(dtype=float) for c in ("repeat_transactions", "recency_weeks", "age_weeks"))
    m = summaries["mean_repeat_value"].to_numpy(dtype=float, na_value=np.nan)
    missing = np.full(len(summaries), np.nan)
    fitted = bool(bgnbd) and all(pd.notna(v) for v in bgnbd.values())
    spend_fitted = fitted and bool(gamma_gamma) and all(pd.notna(v) for v in gamma_gamma.values())
    return pd.DataFrame({
        "customer_id": summaries["customer_id"].to_numpy(),
        "p_alive": p_alive(bgnbd, x, t_x, big_t) if fitted else missing,
        "expected_purchases_90d": expected_purchases(bgnbd, 90 / 7, x, t_x, big_t) if fitted else missing,
        "expected_purchases_365d": expected_purchases(bgnbd, 365 / 7, x, t_x, big_t) if fitted else missing,
        "predicted_clv_12m": (predicted_clv(bgnbd, gamma_gamma, x, t_x, big_t, m, months, monthly_discount_rate)
                              if spend_fitted else missing),
    })

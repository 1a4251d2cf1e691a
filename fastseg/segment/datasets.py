"""Synthetic customer data shaped like the GA-K-means paper's e-commerce study (Tables 3 and 5).

Everything here is generated: no real customer is in it. The four latent segments take their
sizes and feature means from Table 5 of the paper; the spread, skew and noise are ours.
"""

import numpy as np

# Table 5 of the GA-K-means paper: sizes and feature means of its four segments.
TABLE5 = {
    "size": (443, 979, 1024, 1554),
    "purchase_interval_days": (4.8, 3.1, 8.7, 11.4),
    "purchase_frequency": (10.2, 25.6, 13.5, 7.3),
    "monthly_spend": (3500.0, 1985.2, 560.87, 200.5),
    "purchase_count": (13.4, 40.2, 16.1, 7.2),
    "user_level": (3, 2, 1, 0),
    "hesitation_time": (4.6, 6.8, 12.3, 13.9),
}
FEATURES = [
    "gender",
    "age",
    "monthly_spend",
    "purchase_frequency",
    "purchase_interval_days",
    "purchase_count",
    "user_level",
    "hesitation_time",
]
# Age bands 18-25, 26-45, 46-65 per segment: overall mostly 18-25, then 26-45, few older (the
# paper gives only that overall shape; premium customers are made a little older).
_AGE_BANDS = np.array([[18, 26], [26, 46], [46, 66]])
_AGE_BAND_P = np.array([[0.35, 0.45, 0.20], [0.50, 0.38, 0.12], [0.55, 0.35, 0.10], [0.65, 0.28, 0.07]])
_CATEGORIES = ["fashion", "beauty", "electronics", "home", "food", "sports", "books", "luxury"]
# Relative category preferences of each segment (for the transactions table).
_PREFERENCES = np.array(
    [
        [3, 2, 3, 1, 0.5, 1, 0.5, 4],  # premium
        [3, 3, 2, 2, 2, 1, 1, 1],  # frequent mid-price
        [2, 2, 1, 3, 3, 2, 2, 0.3],  # occasional
        [1, 1, 0.5, 2, 4, 1, 2, 0.1],  # low spend
    ]
)


# Three product pairs per segment, as (category, product) of both items.
_BUNDLES = np.array(
    [
        [[[7, 1], [0, 1]], [[2, 3], [2, 4]], [[7, 5], [1, 2]]],
        [[[0, 7], [1, 7]], [[4, 2], [3, 9]], [[1, 3], [1, 4]]],
        [[[3, 11], [4, 12]], [[6, 1], [6, 2]], [[5, 8], [0, 9]]],
        [[[4, 20], [4, 21]], [[4, 5], [3, 6]], [[6, 10], [4, 22]]],
    ]
)


def _lognormal(rng, mean, cv, size):
    """Right-skewed positive values with the given mean and coefficient of variation."""
    sigma2 = np.log1p(cv**2)
    return rng.lognormal(np.log(mean) - sigma2 / 2, np.sqrt(sigma2), size)


def make_customers(n=4000, *, random_state=None, return_segments=True):
    """A synthetic customer table with the paper's 8-feature user portrait.

    Parameters
    ----------
    n : int, default=4000
        Number of customers; split over 4 latent segments in the proportions of Table 5
        (443 / 979 / 1024 / 1554 of 4000).
    random_state : int or None
    return_segments : bool, default=True
        Also return the generating segment of every customer (0-3, in Table 5's order).

    Returns
    -------
    customers : pandas.DataFrame
        ``customer_id`` and the features ``gender`` ('F'/'M', about 7:3), ``age`` (years, mostly
        18-25, then 25-45, few older), ``monthly_spend``, ``purchase_frequency`` (purchases per
        month), ``purchase_interval_days``, ``purchase_count``, ``user_level`` (0-3) and
        ``hesitation_time`` (the paper's units). Segment means follow Table 5; values are skewed
        (log-normal) and noisy, so the segments overlap.
    segments : ndarray of shape (n,), only if ``return_segments``
    """
    import pandas as pd

    if not isinstance(n, int | np.integer) or n < 4:
        raise ValueError(f"n must be an integer >= 4, got {n!r}.")
    rng = np.random.default_rng(random_state)
    shares = np.array(TABLE5["size"], dtype=float) / sum(TABLE5["size"])
    segments = np.sort(rng.choice(4, size=n, p=shares))
    segments[:4] = np.arange(4)  # every segment present, even for tiny n
    seg = segments

    def table5(name):
        return np.array(TABLE5[name], dtype=float)[seg]

    band = (rng.random(n)[:, None] > np.cumsum(_AGE_BAND_P, axis=1)[seg]).sum(axis=1)
    age = rng.integers(_AGE_BANDS[band, 0], _AGE_BANDS[band, 1])
    level = np.clip(table5("user_level") + rng.choice([-1, 0, 0, 0, 0, 0, 0, 1], size=n), 0, 3)
    customers = pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(1, n + 1)],
            "gender": np.where(rng.random(n) < 0.3, "M", "F"),
            "age": age.astype(int),
            "monthly_spend": np.round(_lognormal(rng, table5("monthly_spend"), 0.35, n), 2),
            "purchase_frequency": np.round(_lognormal(rng, table5("purchase_frequency"), 0.3, n), 1),
            "purchase_interval_days": np.round(_lognormal(rng, table5("purchase_interval_days"), 0.3, n), 1),
            "purchase_count": np.maximum(1, rng.poisson(_lognormal(rng, table5("purchase_count"), 0.25, n))),
            "user_level": level.astype(int),
            "hesitation_time": np.round(_lognormal(rng, table5("hesitation_time"), 0.3, n), 1),
        }
    )
    order = rng.permutation(n)  # customers are not listed by segment
    customers = customers.iloc[order].reset_index(drop=True)
    customers["customer_id"] = [f"C{i:05d}" for i in range(1, n + 1)]
    return (customers, seg[order]) if return_segments else customers


def make_transactions(customers, segments, *, months=3, start="2024-01-01", random_state=None):
    """Purchases consistent with a customer table from ``make_customers``.

    Each customer buys about ``purchase_frequency * months`` times, spread over the period,
    spending about ``monthly_spend * months`` in total; each purchase is an order of 1-4 items
    drawn from 8 categories x 25 products, with category preferences that differ by segment.
    A third of the orders also hold one of three product pairs typical of the customer's segment
    (bundles), so that pair analysis has something to find.

    Returns
    -------
    pandas.DataFrame with columns ``order_id``, ``customer_id``, ``date``, ``item``, ``amount``.
    """
    import pandas as pd

    rng = np.random.default_rng(random_state)
    segments = np.asarray(segments)
    freq = customers["purchase_frequency"].to_numpy(dtype=float)
    spend = customers["monthly_spend"].to_numpy(dtype=float)
    # Orders (each of 1-4 items) per customer, spread uniformly over the period.
    n_orders = np.maximum(1, rng.poisson(freq * months / 3))
    order_customer = np.repeat(np.arange(len(customers)), n_orders)
    order_day = rng.integers(0, int(months * 30), order_customer.size)
    order = np.lexsort((order_day, order_customer))
    order_customer, order_day = order_customer[order], order_day[order]
    order_budget = (spend * months / n_orders)[order_customer]
    n_items = rng.integers(1, 5, order_customer.size)
    item_order = np.repeat(np.arange(order_customer.size), n_items)
    item_customer = order_customer[item_order]
    # Category from the segment's preferences, then one of 25 products in it.
    cumulative = np.cumsum(_PREFERENCES / _PREFERENCES.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(item_order.size)
    category = (u[:, None] > cumulative[segments[item_customer]]).sum(axis=1)
    product = rng.integers(1, 26, item_order.size)
    # Bundles: one of 3 segment-specific pairs in a third of the orders, as 2 extra items.
    bundle_orders = np.flatnonzero(rng.random(order_customer.size) < 1 / 3)
    bundle = _BUNDLES[segments[order_customer[bundle_orders]], rng.integers(0, 3, bundle_orders.size)]
    item_order = np.concatenate([item_order, np.repeat(bundle_orders, 2)])
    category = np.concatenate([category, bundle[:, :, 0].ravel()])
    product = np.concatenate([product, bundle[:, :, 1].ravel()])
    keep = np.argsort(item_order, kind="stable")
    item_order, category, product = item_order[keep], category[keep], product[keep]
    item_customer = order_customer[item_order]
    share = rng.exponential(size=item_order.size)  # Dirichlet(1, ..., 1) split of the order budget
    share /= np.bincount(item_order, weights=share)[item_order]
    return pd.DataFrame(
        {
            "order_id": item_order + 1,
            "customer_id": customers["customer_id"].to_numpy()[item_customer],
            "date": pd.Timestamp(start) + pd.to_timedelta(order_day[item_order], unit="D"),
            "item": [f"{_CATEGORIES[c]}-{p:02d}" for c, p in zip(category, product)],
            "amount": np.round(order_budget[item_order] * share, 2),
        }
    )


RETAIL_COLUMNS = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"]  # fmt: skip


def make_retail_export(n_customers=400, *, months=6, random_state=None):
    """A synthetic shop export in the layout of the public "Online Retail" data set, with its quirks.

    Columns ``InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice, CustomerID,
    Country``, every cell as text, as a CSV export holds them: no amount column (quantity and unit
    price), dates like ``12/1/10 8:26``, numeric-looking customer ids (a third of them
    zero-padded), about 5% of rows without a customer id, and returns (invoices starting with
    ``C``, negative quantities) for about 2% of the lines. The purchases follow ``make_customers``
    and ``make_transactions``.

    Returns
    -------
    pandas.DataFrame of strings
    """
    import pandas as pd

    rng = np.random.default_rng(random_state)
    customers, segments = make_customers(n_customers, random_state=rng.integers(2**31))
    tx = make_transactions(
        customers, segments, months=months, start="2010-12-01", random_state=rng.integers(2**31)
    )
    numbers = rng.permutation(np.arange(12346, 12346 + 10 * n_customers, 10))[:n_customers]
    ids = np.array([f"{v:07d}" if i % 3 == 0 else str(v) for i, v in enumerate(numbers)], dtype=object)
    id_of = dict(zip(customers["customer_id"], ids))
    codes, items = pd.factorize(tx["item"], sort=True)
    stock = np.array(
        [f"{20000 + 37 * i}" + ("A" if i % 7 == 0 else "") for i in range(items.size)], dtype=object
    )
    price = np.round(rng.choice([0.42, 0.85, 1.25, 1.65, 2.55, 2.95, 4.95, 7.95], items.size), 2)
    quantity = np.maximum(1, np.round(tx["amount"].to_numpy() / price[codes])).astype(int)
    minutes = rng.integers(8 * 60, 19 * 60, tx["order_id"].max() + 1)[tx["order_id"].to_numpy()]
    when = tx["date"] + pd.to_timedelta(minutes, unit="min")
    table = pd.DataFrame(
        {
            "InvoiceNo": (536364 + tx["order_id"]).astype(str),
            "StockCode": stock[codes],
            "Description": [f"{name.upper().replace('-', ' ')}, ASSORTED" for name in items[codes]],
            "Quantity": quantity.astype(str),
            "InvoiceDate": [f"{t.month}/{t.day}/{t.year % 100:02d} {t.hour}:{t.minute:02d}" for t in when],
            "UnitPrice": [f"{p:.2f}" for p in price[codes]],
            "CustomerID": tx["customer_id"].map(id_of).to_numpy(),
            "Country": rng.choice(
                ["United Kingdom", "France", "Germany", "EIRE"], len(tx), p=[0.85, 0.05, 0.05, 0.05]
            ),
        }
    )
    returned = table.sample(frac=0.02, random_state=int(rng.integers(2**31)))
    returned = returned.assign(InvoiceNo="C" + returned["InvoiceNo"], Quantity="-" + returned["Quantity"])
    table = pd.concat([table, returned]).sort_index(kind="stable").reset_index(drop=True)
    table.loc[rng.random(len(table)) < 0.05, "CustomerID"] = ""
    return table[RETAIL_COLUMNS]


def make_choices(n=5000, *, n_options=3, n_segments=0, random_state=None):
    """Synthetic choice rows in the precision-marketing paper's layout: which brand each purchase
    chose, from known multinomial-logit coefficients (brand ``B1`` the base).

    Attributes: ``price`` (a number, in tens), ``platform`` (``JD``, ``Taobao``, ``Tmall``),
    ``free_shipping`` and ``seven_day_return`` (two of the paper's seller service promises,
    ``yes`` / ``no``), a ``customer_id`` of text (``C00001`` ...) and, with ``n_segments``, the
    ``segment`` (1 ..) of each row's customer, which moves the choice too.

    Returns (rows as a DataFrame, the true coefficients: option, term, coefficient, with the terms
    named as ``fastseg.choice.fit_choice`` names them).
    """
    from .._pandas import require_pandas

    pd = require_pandas()
    rng = np.random.default_rng(random_state)
    customers = max(n // 4, 1)
    customer = rng.integers(0, customers, n)
    frame = pd.DataFrame(
        {
            "customer_id": np.char.add("C", np.char.zfill((customer + 1).astype(str), 5)),
            "price": np.round(rng.gamma(4.0, 1.0, n), 2),
            "platform": rng.choice(np.array(["JD", "Taobao", "Tmall"]), n, p=[0.3, 0.5, 0.2]),
            "free_shipping": rng.choice(np.array(["no", "yes"]), n, p=[0.4, 0.6]),
            "seven_day_return": rng.choice(np.array(["no", "yes"]), n, p=[0.5, 0.5]),
        }
    )
    terms = [
        "const",
        "price",
        "platform=Taobao",
        "platform=Tmall",
        "free_shipping=yes",
        "seven_day_return=yes",
    ]
    design = [
        np.ones(n),
        frame["price"].to_numpy(),
        (frame["platform"] == "Taobao").to_numpy(float),
        (frame["platform"] == "Tmall").to_numpy(float),
        (frame["free_shipping"] == "yes").to_numpy(float),
        (frame["seven_day_return"] == "yes").to_numpy(float),
    ]
    if n_segments > 1:
        seg_of = rng.integers(1, n_segments + 1, customers)
        frame["segment"] = seg_of[customer]
        for g in range(2, n_segments + 1):
            terms.append(f"segment={g}")
            design.append((frame["segment"] == g).to_numpy(float))
    design = np.column_stack(design)
    beta = np.round(rng.normal(0.0, 0.6, (n_options - 1, design.shape[1])), 2)
    utility = np.column_stack([np.zeros(n), design @ beta.T])
    utility += rng.gumbel(size=utility.shape)  # the logit's error term: the choice is the best utility
    options = np.array([f"B{j + 1}" for j in range(n_options)])
    frame.insert(1, "brand", options[utility.argmax(axis=1)])
    truth = pd.DataFrame(
        [(options[a + 1], term, beta[a, t]) for a in range(n_options - 1) for t, term in enumerate(terms)],
        columns=["option", "term", "coefficient"],
    )
    return frame, truth


def load_wholesale():
    """A real customer table: the 440 clients of a Portuguese wholesale distributor, their
    annual spending (monetary units) on six product categories, sales channel (1 Horeca, 2 retail)
    and region (1 Lisbon, 2 Oporto, 3 other), from the UCI Machine Learning Repository
    (Abreu, N. (2011), Wholesale customers, https://doi.org/10.24432/C5030X, CC BY 4.0), with a
    ``customer_id`` column added (the row number in the UCI file, as text)."""
    from importlib.resources import files

    from .._pandas import require_pandas

    pd = require_pandas()
    with files("fastseg.segment").joinpath("data/wholesale_customers.csv").open("rb") as fh:
        return pd.read_csv(fh, dtype={"customer_id": str})

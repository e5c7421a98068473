"""The additive cells one case's facts add to the rollups. Pure: the refresh subtracts the cells of the
facts a case was last counted with and adds those of its facts now."""
from collections import defaultdict
from datetime import date

from hotline.stats.facts import NOT_AGAINST_BUSINESS, Facts

DAY_MEASURES = ("received", "online", "decided", "decided_on_time", "closed", "closed_timed", "closed_on_time",
                "recovered", "rated", "rating_sum", "satisfied", "returned", "extensions")
OPEN_MEASURES = ("open", "overdue")
BUSINESS_MEASURES = ("received", "counted", "accepted", "mediation_closed", "mediated")
MEDIATION_OUTCOMES = frozenset({"mediated", "terminated"})  # mediation ended, settled or not
_INDEX = {name: i for i, name in enumerate(DAY_MEASURES)}

# A cell: (table, key). Keys: "day" (day, bureau_id, kind, channel, category, outcome);
# "open" (bureau_id, kind, channel, category, status); "business" (month, bureau_id, kind, business_key).
Cells = dict[tuple[str, tuple], list[int]]


def _day_cell(cells: Cells, day: date, bureau_id: int, facts: Facts, outcome: str = "", **measures: int) -> None:
    vector = cells.setdefault(("day", (day, bureau_id, facts.kind, facts.channel, facts.category, outcome)),
                              [0] * len(DAY_MEASURES))
    for name, value in measures.items():
        vector[_INDEX[name]] += int(value)


def cells_of(facts: Facts | None) -> Cells:
    cells: Cells = {}
    if facts is None:
        return cells
    base = facts.bureau_id
    _day_cell(cells, facts.received_day, base, facts, received=1, online=facts.online)
    if facts.decided_day is not None:
        _day_cell(cells, facts.decided_day, base, facts, decided=1, decided_on_time=facts.decided_on_time)
    if facts.closed_day is not None:
        _day_cell(cells, facts.closed_day, base, facts, outcome=facts.outcome or "none", closed=1,
                  closed_timed=facts.closed_timed, closed_on_time=facts.closed_on_time, recovered=facts.recovered)
    if facts.rated_day is not None and facts.score is not None:
        _day_cell(cells, facts.rated_day, facts.rating_bureau_id, facts, rated=1, rating_sum=facts.score,
                  satisfied=facts.score >= 4)
    for day, bureau_id in facts.returns or ():
        _day_cell(cells, date.fromisoformat(day), bureau_id, facts, returned=1)
    for day, bureau_id in facts.extensions or ():
        _day_cell(cells, date.fromisoformat(day), bureau_id, facts, extensions=1)
    if facts.status != "closed":
        cells[("open", (base, facts.kind, facts.channel, facts.category, facts.status))] = [1, int(facts.overdue)]
    if facts.business_key:
        month = facts.received_day.replace(day=1)
        counts = facts.outcome not in NOT_AGAINST_BUSINESS
        # accepted, then withdrawn: not disclosed as accepted either (accepted ≤ counted, always)
        vector = [1, int(counts), int(facts.accepted and counts),
                  int(facts.outcome in MEDIATION_OUTCOMES), int(facts.outcome == "mediated")]
        for bureau_id in {base, 0}:
            for kind in (facts.kind, ""):
                cells[("business", (month, bureau_id, kind, facts.business_key))] = list(vector)
    return cells


def difference(old: Facts | None, new: Facts | None, into: Cells | None = None) -> Cells:
    """new − old, added into `into`; cells that cancel out are dropped when the rollups are written."""
    into = into if into is not None else {}
    for sign, facts in ((-1, old), (1, new)):
        for key, vector in cells_of(facts).items():
            total = into.setdefault(key, [0] * len(vector))
            for i, value in enumerate(vector):
                total[i] += sign * value
    return into


# The tables summed from the day cells (day, bureau_id, kind, channel, category, outcome): each keeps
# the key parts at these positions, with the day turned into its month where the name says so. The
# coarser ones serve the dashboard when no category is chosen (`queries.totals`): same sums, far fewer rows.
PROJECTIONS = {"month": (0, 1, 2, 3, 4, 5), "day_totals": (0, 1, 2, 3, 5), "month_totals": (0, 1, 2, 3, 5),
               "day_categories": (0, 2, 4, 5), "month_categories": (0, 2, 4, 5),
               "day_bureau_categories": (0, 1, 2, 4, 5), "month_bureau_categories": (0, 1, 2, 4, 5)}


def project(table: str, key: tuple) -> tuple:
    parts = tuple(key[i] for i in PROJECTIONS[table])
    return (parts[0].replace(day=1), *parts[1:]) if table.startswith("month") else parts


def with_months(cells: Cells) -> dict[str, dict[tuple, list[int]]]:
    """Split cells by table and add each day cell to its month and to the coarser tables, ready to be
    written; sums that cancel out are dropped."""
    tables: dict[str, dict[tuple, list[int]]] = defaultdict(dict)
    for (table, key), vector in cells.items():
        if not any(vector):
            continue
        tables[table][key] = vector
        if table == "day":
            for name in PROJECTIONS:
                total = tables[name].setdefault(project(name, key), [0] * len(vector))
                for i, value in enumerate(vector):
                    total[i] += value
    for name in PROJECTIONS:
        for key in [k for k, v in tables.get(name, {}).items() if not any(v)]:
            del tables[name][key]
    return tables

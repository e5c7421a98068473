"""Loading a region pack (hotline/regions/NAME/*.json) into the reference tables, idempotently:
rows are matched by their code and updated, so `hotline init` can run any number of times."""
import json
from pathlib import Path

from sqlalchemy import select

from hotline.deadlines.operations import load_deadline_rules
from hotline.extensions import db
from hotline.reference.models import Answer, Bureau, Category, Division, Platform, RoutingRule, Station, StatutoryGround
from hotline.reference.pack import merge_entries

REGIONS = Path(__file__).resolve().parent.parent / "regions"


def read_pack(region: str) -> dict:
    folder = REGIONS / region
    if not folder.is_dir():
        raise ValueError(f"no region pack named {region!r} in {REGIONS}")
    return {path.stem: json.loads(path.read_text("utf-8")) for path in folder.glob("*.json")}


def _upsert(model, key: dict, values: dict):
    row = db.session.scalar(select(model).filter_by(**key))
    if row is None:
        row = model(**key)
        db.session.add(row)
    for name, value in values.items():
        setattr(row, name, value)
    return row


def load_region_pack(region: str) -> dict[str, int]:
    pack = read_pack(region)
    for d in pack["divisions"]:
        _upsert(Division, {"code": d["code"]}, {"name": d["name"], "parent_code": d.get("parent"),
                                                 "aliases": d.get("aliases", [])})
    bureaus = {}
    for b in pack["bureaus"]:
        bureaus[b["code"]] = _upsert(Bureau, {"code": b["code"]}, {
            "name": b["name"], "short_name": b["short_name"], "division_code": b.get("division"),
            "kind": b["kind"], "address": b.get("address"), "phone": b.get("phone")})
    db.session.flush()
    for s in pack["stations"]:
        _upsert(Station, {"code": s["code"]}, {"name": s["name"], "bureau_id": bureaus[s["bureau"]].id,
                                                "address": s.get("address"), "phone": s.get("phone")})
    for axis, tops in pack["categories"].items():
        for i, top in enumerate(tops):
            _upsert(Category, {"axis": axis, "code": top["code"]}, {"name": top["name"], "parent_code": None,
                                                                     "position": i * 100})
            for j, child in enumerate(top.get("children", [])):
                _upsert(Category, {"axis": axis, "code": child["code"]},
                        {"name": child["name"], "parent_code": top["code"], "position": i * 100 + j + 1})
    for p in pack.get("platforms", []):
        _upsert(Platform, {"name": p["name"]}, {
            "aliases": p.get("aliases", []), "operator_name": p.get("operator_name"),
            "registered_address": p["registered_address"]})
    # Grounds (per rulebook version) and answers: what the pack changed is applied, unless the entry
    # was edited here; then the pack's entry waits in `pack_pending` for an administrator.
    merge_entries(StatutoryGround, pack["grounds"])
    merge_entries(Answer, pack["answers"])
    # Routing rules are edited by administrators too: load them only into an empty table.
    if db.session.scalar(select(RoutingRule.id).limit(1)) is None:
        for r in pack["routing_rules"]:
            db.session.add(RoutingRule(position=r["position"], match=r["match"], value=r["value"],
                                       bureau_id=bureaus[r["bureau"]].id, note=r.get("note")))
    # The rulebook: rules the pack changed are updated unless an administrator edited them.
    load_deadline_rules(pack["deadline_rules"])
    db.session.flush()
    return {name: len(rows) for name, rows in pack.items() if isinstance(rows, list)}

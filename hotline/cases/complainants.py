"""共同投诉 (Order 121 art. 12): the further complainants of a joint complaint. The first complainant
stays in the case's consumer fields; the others are rows of `case_complainant`, their ID numbers
encrypted and their phones normalised exactly like the consumer's."""
from sqlalchemy import select

from hotline.cases import personal_data
from hotline.cases.models import Case, CaseComplainant
from hotline.cases.schemas import ComplainantIn
from hotline.cases.validation import mask_id_number, mask_phone
from hotline.extensions import db


def add_complainants(case: Case, people: list[ComplainantIn]) -> list[CaseComplainant]:
    rows = [CaseComplainant(case_id=case.id, position=i + 1, name=p.name, phone=p.phone,
                            id_number_enc=personal_data.encrypt(p.id_number) if p.id_number else None,
                            id_number_tail=p.id_number[-4:] if p.id_number else None,
                            address=p.address, representative=p.representative)
            for i, p in enumerate(people)]
    db.session.add_all(rows)
    return rows


def complainants_of(case_id: int) -> list[CaseComplainant]:
    return list(db.session.scalars(select(CaseComplainant).where(CaseComplainant.case_id == case_id)
                                   .order_by(CaseComplainant.position)))


def consumer_is_representative(case: Case) -> bool:
    """The consumer's own representative mark is kept with the registration (the case row has no column)."""
    first = case.events[0] if case.events else None
    return bool(first and first.action == "register" and (first.data or {}).get("consumer_representative"))


def complainants_json(case_id: int) -> list[dict]:
    """Masked like the consumer's data: phone 138****5678, ID number by its last four characters."""
    return [{"position": c.position, "name": c.name, "phone": mask_phone(c.phone),
             "id_number": mask_id_number(c.id_number_tail), "address": c.address,
             "representative": c.representative} for c in complainants_of(case_id)]


def reveal(case_id: int) -> list[dict]:
    """Unmasked phones and ID numbers, for the handler who must call them (the caller logs the view)."""
    return [{"position": c.position, "phone": c.phone,
             "id_number": personal_data.readable(c.id_number_enc)}
            for c in complainants_of(case_id)]

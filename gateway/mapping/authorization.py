"""Authorization requested (event) -> AuthorizationRequest (e-document). Pure: no I/O, no clock."""

from __future__ import annotations

from gateway.contract.documents import AUTHORIZATION_REQUEST
from gateway.events import AuthorizationRequested
from gateway.mapping.common import foreign_party, header, party, supporting_document
from gateway.mapping.document import Document, DocumentBuilder, fixed

AUT = AUTHORIZATION_REQUEST.namespace


def map_authorization(event: AuthorizationRequested, message_id: str) -> Document:
    data = event.data
    b = DocumentBuilder(AUTHORIZATION_REQUEST, message_id)
    root = b.root
    header(b, event, message_id, data.local_reference)
    b.value(root, f"{{{AUT}}}District", data.district, "data.district")
    b.value(root, f"{{{AUT}}}ProcedureReason", data.procedure_reason, "data.procedure_reason")
    b.value(root, f"{{{AUT}}}Regime", data.regime, "data.regime")
    party(b, root, f"{{{AUT}}}Applicant", data.applicant, "data.applicant")
    if data.customs_agent is not None:
        party(b, root, f"{{{AUT}}}CustomsAgent", data.customs_agent, "data.customs_agent")
    purpose = b.group(root, f"{{{AUT}}}Purpose", "data.purpose")
    b.value(purpose, f"{{{AUT}}}Code", data.purpose.code, "data.purpose.code")
    b.value(purpose, f"{{{AUT}}}Description", data.purpose.description, "data.purpose.description")
    foreign_party(b, root, f"{{{AUT}}}Processor", data.processor, "data.processor")
    b.value(root, f"{{{AUT}}}PlannedShipmentDate", data.planned_shipment_date, "data.planned_shipment_date")
    b.value(root, f"{{{AUT}}}PlannedReturnDate", data.planned_return_date, "data.planned_return_date")
    for index, item in enumerate(data.items):
        at = f"data.items[{index}]"
        line = b.group(root, f"{{{AUT}}}Item", at)
        b.value(line, f"{{{AUT}}}SequenceNumeric", item.line_number, f"{at}.line_number")
        b.value(line, f"{{{AUT}}}Description", item.description, f"{at}.description")
        b.value(line, f"{{{AUT}}}TariffCode", item.tariff_code, f"{at}.tariff_code")
        quantity = b.value(line, f"{{{AUT}}}Quantity", fixed(item.quantity.value, 3), f"{at}.quantity.value")
        quantity.set("unitCode", item.quantity.unit)
        b.value(line, f"{{{AUT}}}NetWeightKg", fixed(item.net_weight_kg, 3), f"{at}.net_weight_kg")
        b.value(line, f"{{{AUT}}}FobValueUsd", fixed(item.fob_value_usd, 2), f"{at}.fob_value_usd")
        for n, mark in enumerate(item.serials_marks):
            b.value(line, f"{{{AUT}}}SerialOrMark", mark, f"{at}.serials_marks[{n}]")
        b.value(line, f"{{{AUT}}}PreviousRegime", item.previous_regime, f"{at}.previous_regime")
        b.value(line, f"{{{AUT}}}ImportDeclarationNumber", item.dai_reference, f"{at}.dai_reference")
    for index, document in enumerate(data.documents):
        supporting_document(b, root, f"{{{AUT}}}SupportingDocument", document, f"data.documents[{index}]")
    return b.document

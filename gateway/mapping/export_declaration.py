"""Export declaration submitted (event) -> ExportDeclaration, the DAE 51 (e-document). Pure: no I/O, no clock."""

from __future__ import annotations

from gateway.contract.documents import EXPORT_DECLARATION
from gateway.events.export_declaration import ExportDeclarationSubmitted
from gateway.mapping.common import foreign_party, header, party, supporting_document
from gateway.mapping.document import Document, DocumentBuilder, fixed

DAE = EXPORT_DECLARATION.namespace


def map_export_declaration(event: ExportDeclarationSubmitted, message_id: str) -> Document:
    data = event.data
    b = DocumentBuilder(EXPORT_DECLARATION, message_id)
    root = b.root
    header(b, event, message_id, data.local_reference)
    b.value(root, f"{{{DAE}}}District", data.district, "data.district")
    b.value(root, f"{{{DAE}}}Regime", data.regime, "data.regime")
    b.value(root, f"{{{DAE}}}AuthorizationNumber", data.authorization_number, "data.authorization_number")
    party(b, root, f"{{{DAE}}}Exporter", data.exporter, "data.exporter")
    if data.declarant is not None:
        party(b, root, f"{{{DAE}}}Declarant", data.declarant, "data.declarant")
    foreign_party(b, root, f"{{{DAE}}}Consignee", data.consignee, "data.consignee")
    b.value(root, f"{{{DAE}}}DestinationCountry", data.destination_country, "data.destination_country")
    b.value(root, f"{{{DAE}}}TransportModeCode", data.transport_mode, "data.transport_mode")
    b.value(root, f"{{{DAE}}}LoadingLocation", data.port_of_loading, "data.port_of_loading")
    b.value(root, f"{{{DAE}}}TradeTermsCode", data.incoterm, "data.incoterm")

    invoice = b.group(root, f"{{{DAE}}}Invoice", "data.invoice")
    b.value(invoice, f"{{{DAE}}}ID", data.invoice.number, "data.invoice.number")
    b.value(invoice, f"{{{DAE}}}IssueDate", data.invoice.issue_date, "data.invoice.issue_date")
    b.value(invoice, f"{{{DAE}}}CurrencyCode", data.invoice.currency, "data.invoice.currency")
    b.value(invoice, f"{{{DAE}}}TotalAmount", fixed(data.invoice.total_value, 2), "data.invoice.total_value")

    packages = b.group(root, f"{{{DAE}}}Packages", "data.packages")
    b.value(packages, f"{{{DAE}}}Quantity", data.packages.count, "data.packages.count")
    b.value(packages, f"{{{DAE}}}TypeCode", data.packages.package_type, "data.packages.package_type")

    b.value(root, f"{{{DAE}}}TotalGrossWeightKg", fixed(data.gross_weight_kg, 3), "data.gross_weight_kg")
    b.value(root, f"{{{DAE}}}TotalNetWeightKg", fixed(data.net_weight_kg, 3), "data.net_weight_kg")
    b.value(root, f"{{{DAE}}}TotalFobValueUsd", fixed(data.total_fob_usd, 2), "data.total_fob_usd")
    b.value(root, f"{{{DAE}}}ShipmentDate", data.shipment_date, "data.shipment_date")
    b.value(root, f"{{{DAE}}}ExpectedReturnDate", data.expected_return_date, "data.expected_return_date")
    for index, item in enumerate(data.items):
        at = f"data.items[{index}]"
        line = b.group(root, f"{{{DAE}}}Item", at)
        b.value(line, f"{{{DAE}}}SequenceNumeric", item.line_number, f"{at}.line_number")
        b.value(line, f"{{{DAE}}}AuthorisedLineNumeric", item.authorised_line_number, f"{at}.authorised_line_number")
        b.value(line, f"{{{DAE}}}Description", item.description, f"{at}.description")
        b.value(line, f"{{{DAE}}}TariffCode", item.tariff_code, f"{at}.tariff_code")
        quantity = b.value(line, f"{{{DAE}}}Quantity", fixed(item.quantity.value, 3), f"{at}.quantity.value")
        quantity.set("unitCode", item.quantity.unit)
        b.value(line, f"{{{DAE}}}NetWeightKg", fixed(item.net_weight_kg, 3), f"{at}.net_weight_kg")
        b.value(line, f"{{{DAE}}}FobValueUsd", fixed(item.fob_value_usd, 2), f"{at}.fob_value_usd")
    for index, document in enumerate(data.documents):
        supporting_document(b, root, f"{{{DAE}}}SupportingDocument", document, f"data.documents[{index}]")
    return b.document

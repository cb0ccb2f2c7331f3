"""The contract layer is all the mock shares with the gateway, and every registry keyed by a document derives from
its ``DOCUMENTS``.

The mock is imported in a fresh interpreter (every module of the package) and may have loaded, of the gateway, only
the contract layer (``gateway.contract``) and what it stands on: the error tree and the data locator. The gateway's
events, mappers, pipeline and Kafka entrypoint must not be among the modules loaded.
"""

from __future__ import annotations

import pytest
from lxml import etree

from ecuapass_mock.procedures import BY_ROOT as MOCK_BY_ROOT
from ecuapass_mock.procedures import PROCEDURES
from gateway.contract.documents import DOCUMENTS
from gateway.contract.namespaces import PREFIXES
from gateway.contract.schemas import SCHEMA_FILES
from gateway.documents import BY_ROOT, DOCUMENT_KINDS
from gateway.resources import xsd_dir
from gateway.tools.examples import SAMPLE_NUMBERS
from tests.harness.imports import modules_loaded_by, within

# What the contract layer itself imports of the gateway, besides itself.
UNDERNEATH = {"gateway", "gateway.errors", "gateway.resources"}
FORBIDDEN = ("gateway.events", "gateway.mapping", "gateway.kafka", "gateway.pipeline", "gateway.documents")

@pytest.mark.parametrize("package", ["ecuapass_mock", "gateway.contract"])
def test_it_loads_only_the_contract_layer_of_the_gateway(package: str) -> None:
    loaded = within(modules_loaded_by(package, walk=True), "gateway")
    assert "gateway.contract.documents" in loaded  # the check sees what was imported
    forbidden = [name for name in loaded if name.startswith(FORBIDDEN)]
    assert forbidden == [], f"{package} loads {forbidden}"
    beyond = [name for name in loaded if name not in UNDERNEATH and not name.startswith("gateway.contract")]
    assert beyond == [], f"{package} loads more of the gateway than the contract layer: {beyond}"


def test_each_side_has_one_entry_per_document_of_the_contract() -> None:
    assert [kind.spec for kind in DOCUMENT_KINDS] == list(DOCUMENTS)
    assert [procedure.spec for procedure in PROCEDURES] == list(DOCUMENTS)
    assert set(BY_ROOT) == set(MOCK_BY_ROOT) == {spec.root_tag for spec in DOCUMENTS}


def test_the_registries_keyed_by_document_are_derived_from_the_specs() -> None:
    assert {**{spec.name: spec.xsd for spec in DOCUMENTS}, "reply": "reply.xsd"} == SCHEMA_FILES
    assert {spec.name: spec.sample_number for spec in DOCUMENTS} == SAMPLE_NUMBERS
    assert {spec.prefix: spec.namespace for spec in DOCUMENTS}.items() <= PREFIXES.items()


def test_each_xsd_declares_its_documents_namespace_and_root() -> None:
    for spec in DOCUMENTS:
        tree = etree.parse(str(xsd_dir() / spec.xsd))
        assert tree.getroot().get("targetNamespace") == spec.namespace, spec.xsd
        roots = tree.getroot().findall("{http://www.w3.org/2001/XMLSchema}element")
        assert [element.get("name") for element in roots] == [spec.root], spec.xsd


def test_the_reply_names_exactly_the_documents_of_the_contract() -> None:
    # reply.xsd enumerates the document types a reply may name: a new document adds its name there too.
    tree = etree.parse(str(xsd_dir() / "reply.xsd"))
    xs = {"xs": "http://www.w3.org/2001/XMLSchema"}
    values = tree.xpath("//xs:simpleType[@name='DocumentTypeCode']//xs:enumeration/@value", namespaces=xs)
    assert values == [spec.name for spec in DOCUMENTS]

"""Code lists of the régimen-51 procedure, the one source the models, the mock and the XSD drift tests use.

Facts from ``shared/domain/regime51.md`` (confidence there); ISO lists as published by ISO (3166-1 alpha-2,
4217). The XSDs in ``schemas/xsd/`` enumerate the same values; ``tests/unit/test_codelists.py`` fails if they drift.
"""

from __future__ import annotations

#: SENAE customs districts (distritos aduaneros).
DISTRICTS: dict[str, str] = {
    "019": "Guayaquil aéreo",
    "028": "Guayaquil marítimo",
    "037": "Manta",
    "046": "Esmeraldas",
    "055": "Quito",
    "064": "Puerto Bolívar",
    "073": "Tulcán",
    "082": "Huaquillas",
    "091": "Cuenca",
    "109": "Loja–Macará",
    "118": "Santa Elena",
    "127": "Latacunga",
    "145": "CEBAF San Miguel",
}

#: Customs regimes that appear in régimen-51 documents.
REGIMES: dict[str, str] = {
    "10": "Importación para el consumo",
    "20": "Admisión temporal para reexportación en el mismo estado",
    "21": "Admisión temporal para perfeccionamiento activo",
    "32": "Reimportación en el mismo estado",
    "40": "Exportación definitiva",
    "50": "Exportación temporal con reimportación en el mismo estado",
    "51": "Exportación temporal para perfeccionamiento pasivo",
    "70": "Depósito aduanero",
}

#: Regimes goods may come from when they enter régimen 51 (free circulation: 10; temporary admission: 20).
PREVIOUS_REGIMES: tuple[str, ...] = ("10", "20")

#: Admissible purposes of an outward-processing export.
PURPOSES: dict[str, str] = {
    "REPAIR": "Reparación",
    "TRANSFORMATION": "Transformación",
    "ELABORATION": "Elaboración (incluido el montaje)",
}

#: Supporting documents of an authorization request (our codes; the kinds are SENAE's requirements).
SUPPORTING_DOCUMENTS: dict[str, str] = {
    "EXPORTER_LETTER": "Carta del exportador (motivo y tiempo de permanencia)",
    "PROFORMA_INVOICE": "Factura preliminar",
    "IMPORT_DECLARATION": "Declaración aduanera de importación (DAI)",
    "REGIME_CHANGE_ACT": "Acto administrativo de cambio de régimen 20 a 51",
    "COMMERCIAL_INVOICE": "Factura comercial",
    "TRANSPORT_DOCUMENT": "Documento de transporte",
    "AUTHORIZATION": "Autorización del régimen 51",
}

#: Incoterms 2020: any mode of transport, then sea and inland waterway only.
INCOTERMS_ANY_MODE: tuple[str, ...] = ("EXW", "FCA", "CPT", "CIP", "DAP", "DPU", "DDP")
INCOTERMS_SEA: tuple[str, ...] = ("FAS", "FOB", "CFR", "CIF")
INCOTERMS: tuple[str, ...] = INCOTERMS_ANY_MODE + INCOTERMS_SEA

#: UN/ECE Recommendation 19 transport modes used at Ecuador's borders.
TRANSPORT_MODES: dict[str, str] = {"1": "Marítimo", "3": "Carretera", "4": "Aéreo"}

#: Ecuapass package-type codes seen in public examples (the full list is SENAE's).
PACKAGE_TYPES: dict[str, str] = {"035": "Caja", "104": "Saco", "146": "Contenedor", "152": "Pallets"}

#: Ports of loading per maritime district (our reading of the district list); 019 and 055 are air districts.
DISTRICT_PORTS: dict[str, str] = {
    "028": "ECGYE",
    "037": "ECMEC",
    "046": "ECESM",
    "064": "ECPBO",
    "118": "ECLLD",
}

#: UN/ECE Recommendation 20 units accepted for quantities (a common subset; extend as needed).
UNITS: dict[str, str] = {
    "H87": "piece",
    "C62": "one (unit)",
    "SET": "set",
    "PR": "pair",
    "NAR": "number of articles",
    "KGM": "kilogram",
    "GRM": "gram",
    "TNE": "tonne",
    "MTR": "metre",
    "MTK": "square metre",
    "MTQ": "cubic metre",
    "LTR": "litre",
    "DZN": "dozen",
    "KWH": "kilowatt hour",
}

#: ISO 3166-1 alpha-2 country codes.
COUNTRIES: frozenset[str] = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW
    BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI
    FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN
    IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME
    MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF
    PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE
    YT ZA ZM ZW
    """.split()
)

#: ISO 4217 currency codes (customs values in Ecuador are in USD).
CURRENCIES: frozenset[str] = frozenset(
    """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF
    CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP
    GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT
    LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR
    NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN
    SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAD
    XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XTS XUA XXX YER ZAR ZMW ZWG
    """.split()
)

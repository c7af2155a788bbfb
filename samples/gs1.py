"""GS1 keys of the sample plants: GTIN-14, SSCC, GLN and their EPC URNs, under one company prefix."""

from __future__ import annotations

from zhuisu.ingest.gs1 import check_digit

# A GS1 China (690–699) company prefix; fictitious, shared by both sample plants.
COMPANY_PREFIX = "6901234"


def gtin14(item_ref: int) -> str:
    """GTIN-14 ``0`` + company prefix + 5-digit item reference + check digit."""
    body = f"0{COMPANY_PREFIX}{item_ref:05d}"
    return body + check_digit(body)


def _class_fields(gtin: str) -> str:
    # An EPC URN reorders the GTIN: company prefix, then indicator digit + item reference, no check digit.
    return f"{gtin[1 : 1 + len(COMPANY_PREFIX)]}.{gtin[0]}{gtin[1 + len(COMPANY_PREFIX) : 13]}"


def sgtin_urn(gtin: str, serial: str) -> str:
    """The SGTIN pure-identity URN of one serialised trade item."""
    return f"urn:epc:id:sgtin:{_class_fields(gtin)}.{serial}"


def lgtin_urn(gtin: str, lot: str) -> str:
    """The LGTIN class URN of one lot of a trade item."""
    return f"urn:epc:class:lgtin:{_class_fields(gtin)}.{lot}"


def sscc(serial_ref: int) -> str:
    """The 18-digit SSCC (extension digit 0) of a logistic unit."""
    body = f"0{COMPANY_PREFIX}{serial_ref:09d}"
    return body + check_digit(body)


def sscc_urn(code: str) -> str:
    """The SSCC URN of an 18-digit SSCC."""
    return f"urn:epc:id:sscc:{code[1 : 1 + len(COMPANY_PREFIX)]}.{code[0]}{code[1 + len(COMPANY_PREFIX) : 17]}"


def sgln_urn(location_ref: int) -> str:
    """The SGLN URN of a location of the plant (extension 0)."""
    return f"urn:epc:id:sgln:{COMPANY_PREFIX}.{location_ref:05d}.0"


def gln(location_ref: int) -> str:
    """The 13-digit GLN of a location of the plant."""
    body = f"{COMPANY_PREFIX}{location_ref:05d}"
    return body + check_digit(body)

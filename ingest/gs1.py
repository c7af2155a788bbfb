"""GS1 identifiers (EPC URNs and Digital Link URIs) ↔ zhuisu uids and canonical Digital Link aliases."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

DL_BASE = "https://id.gs1.org"


@dataclass(frozen=True, slots=True)
class Gs1Id:
    """A recognised GS1 identifier: the node uid it names and its canonical Digital Link."""

    uid: str
    kind: str
    digital_link: str | None


def check_digit(digits: str) -> str:
    """GS1 mod-10 check digit for a GTIN/SSCC/GLN body without its check digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def gtin14(company_prefix: str, indicator_item_ref: str) -> str:
    """GTIN-14 from the two numeric fields of an SGTIN/LGTIN URN."""
    body = indicator_item_ref[:1] + company_prefix + indicator_item_ref[1:]
    return body + check_digit(body)


def sgtin(gtin: str, serial: str) -> Gs1Id:
    """A serialised trade item (SGTIN) named by its GTIN-14 and serial number."""
    gtin = gtin.zfill(14)
    return Gs1Id(f"unit:{gtin}.{serial}", "SerialUnit", f"{DL_BASE}/01/{gtin}/21/{serial}")


def lgtin(gtin: str, lot: str) -> Gs1Id:
    """A lot of a trade item (LGTIN) named by its GTIN-14 and lot number."""
    gtin = gtin.zfill(14)
    return Gs1Id(f"lot:{gtin}.{lot}", "MaterialLot", f"{DL_BASE}/01/{gtin}/10/{lot}")


def gtin_class(gtin: str) -> Gs1Id:
    gtin = gtin.zfill(14)
    return Gs1Id(f"material:{gtin}", "Material", f"{DL_BASE}/01/{gtin}")


def sscc(code: str) -> Gs1Id:
    return Gs1Id(f"lu:{code}", "LogisticUnit", f"{DL_BASE}/00/{code}")


def gln(code: str, extension: str = "0") -> Gs1Id:
    local = code if extension in {"", "0"} else f"{code}.{extension}"
    dl = f"{DL_BASE}/414/{code}" + ("" if extension in {"", "0"} else f"/254/{extension}")
    return Gs1Id(f"location:{local}", "Location", dl)


_URN = re.compile(r"^urn:epc:(id|class|idpat):([a-z]+):(.+)$")
_DL_KEYS = re.compile(r"/(01|00|414|417|8003|8004)/([^/?#]+)(?:/(21|10|254)/([^/?#]+))?")


def parse(identifier: str) -> Gs1Id | None:
    """The uid that a GS1 URN or Digital Link URI names, or None for anything else."""
    text = identifier.strip()
    match = _URN.match(text)
    if match:
        return _from_urn(match.group(1), match.group(2), match.group(3))
    if text.startswith(("http://", "https://")):
        return _from_digital_link(text)
    return None


def _from_urn(space: str, scheme: str, rest: str) -> Gs1Id | None:
    parts = [unquote(p) for p in rest.split(".")]
    if scheme == "sgtin" and len(parts) >= 3:
        serial = ".".join(parts[2:])
        if space == "idpat" or serial == "*":
            return gtin_class(gtin14(parts[0], parts[1]))
        return sgtin(gtin14(parts[0], parts[1]), serial)
    if scheme == "lgtin" and len(parts) >= 3:
        return lgtin(gtin14(parts[0], parts[1]), ".".join(parts[2:]))
    if scheme == "sscc" and len(parts) == 2:
        body = parts[1][:1] + parts[0] + parts[1][1:]
        return sscc(body + check_digit(body))
    if scheme in {"sgln", "pgln"} and len(parts) >= 2:
        body = parts[0] + parts[1]
        return gln(body + check_digit(body), ".".join(parts[2:]) if scheme == "sgln" else "0")
    if space == "id":
        # GRAI, GIAI, GDTI…: individually identified objects without a trade-item class.
        return Gs1Id(f"unit:urn:epc:id:{scheme}:{rest}", "SerialUnit", None)
    return None


def _from_digital_link(uri: str) -> Gs1Id | None:
    match = _DL_KEYS.search(urlsplit(uri).path)
    if not match:
        return None
    ai, value, qualifier, qvalue = match.groups()
    value = unquote(value)
    qvalue = unquote(qvalue) if qvalue else None
    if ai == "01":
        if qualifier == "21" and qvalue:
            return sgtin(value, qvalue)
        if qualifier == "10" and qvalue:
            return lgtin(value, qvalue)
        return gtin_class(value)
    if ai == "00":
        return sscc(value)
    if ai in {"414", "417"}:
        return gln(value, qvalue or "0" if qualifier == "254" else "0")
    return Gs1Id(f"unit:{uri}", "SerialUnit", None)


# ── the reverse direction: uid → GS1 identifier (for exports) ───────────────────
_GS1_UID = re.compile(
    r"^(?:unit:(?P<sgtin>\d{14})\.(?P<serial>.+)|lot:(?P<lgtin>\d{14})\.(?P<lot>.+)|material:(?P<gtin>\d{14})"
    r"|lu:(?P<sscc>\d{18})|location:(?P<gln>\d{13})(?:\.(?P<ext>.+))?)$"
)


def digital_link(uid: str) -> str | None:
    """The canonical Digital Link of a uid that :func:`parse` gives for a GS1 key, or None for any other uid.

    Serials and lot numbers are percent-encoded where the Digital Link syntax needs it, so that
    ``parse(digital_link(uid)).uid == uid`` always holds.
    """
    match = _GS1_UID.match(uid)
    if match is None:
        return None
    part = match.groupdict()
    if part["sgtin"]:
        dl = f"{DL_BASE}/01/{part['sgtin']}/21/{_dl_value(part['serial'])}"
    elif part["lgtin"]:
        dl = f"{DL_BASE}/01/{part['lgtin']}/10/{_dl_value(part['lot'])}"
    elif part["gtin"]:
        dl = f"{DL_BASE}/01/{part['gtin']}"
    elif part["sscc"]:
        dl = f"{DL_BASE}/00/{part['sscc']}"
    else:
        dl = f"{DL_BASE}/414/{part['gln']}" + (f"/254/{_dl_value(part['ext'])}" if part["ext"] else "")
    found = parse(dl)
    return dl if found is not None and found.uid == uid else None


def epc(uid: str) -> str | None:
    """The GS1 identifier that :func:`parse` reads back as ``uid``: its Digital Link, or for GS1 keys without
    a trade-item form here (GRAI, GIAI… kept as ``unit:<identifier>``) the identifier itself; else None."""
    dl = digital_link(uid)
    if dl is not None:
        return dl
    if uid.startswith("unit:"):
        written = uid.removeprefix("unit:")
        found = parse(written)
        if found is not None and found.uid == uid:
            return written
    return None


def _dl_value(text: str) -> str:
    # Everything but the unreserved characters: '/', '?', '#' and '%' would change what the path means.
    return quote(text, safe="-._~!$&'()*+,;=:@")

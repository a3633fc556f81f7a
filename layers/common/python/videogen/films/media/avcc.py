"""The avcC record of an H.264 track (ISO/IEC 14496-15): its SPS/PPS, their ids, and a union of several.

A track's avcC holds every parameter set its samples may refer to, keyed by id; a slice names
its PPS, the PPS its SPS. So clips from different encoders share one track when their
parameter sets have distinct ids, and the union of all of them is the track's avcC.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

_HEADER = 5  # version, profile, compatibility, level, NAL length size
MAX_SPS_ID = 31


class ParameterSetCollision(ValueError):
    """Two different parameter sets claim the same id."""


@dataclass(frozen=True)
class AvcConfig:
    """A parsed avcC: the fixed header, SPS and PPS NAL units (without length prefixes), the rest."""

    header: bytes
    sps: tuple[bytes, ...]
    pps: tuple[bytes, ...]
    trailer: bytes  # High-profile extension (chroma format, bit depths, SPS extensions)

    @classmethod
    def parse(cls, data: bytes) -> AvcConfig:
        """Parse avcC bytes; ``ValueError`` if they are not an avcC record (e.g. Annex B)."""
        if len(data) < _HEADER + 2 or data[0] != 1:
            raise ValueError("not an avcC record")
        sps, pos = _units(data, _HEADER + 1, data[_HEADER] & 0x1F)
        pps, pos = _units(data, pos + 1, data[pos] if pos < len(data) else -1)
        return cls(data[:_HEADER], tuple(sps), tuple(pps), data[pos:])

    def to_bytes(self) -> bytes:
        out = bytearray(self.header)
        out.append(0xE0 | len(self.sps))
        for unit in self.sps:
            out += len(unit).to_bytes(2, "big") + unit
        out.append(len(self.pps))
        for unit in self.pps:
            out += len(unit).to_bytes(2, "big") + unit
        return bytes(out + self.trailer)

    @property
    def profile_and_level(self) -> tuple[int, int]:
        """``AVCProfileIndication`` and ``AVCLevelIndication``: one pair for the whole track."""
        return self.header[1], self.header[3]

    @property
    def used_ids(self) -> set[int]:
        """Every SPS and PPS id in use (x264 numbers both with its one ``sps-id``)."""
        return {sps_id(u) for u in self.sps} | {pps_id(u) for u in self.pps}

    def free_ids(self) -> list[int]:
        """The ids neither an SPS nor a PPS of this record uses, smallest first."""
        return sorted(set(range(MAX_SPS_ID + 1)) - self.used_ids)

    def union(self, others: Iterable[AvcConfig]) -> AvcConfig:
        """This record plus every parameter set of ``others`` it lacks, its header kept.

        Raises ``ParameterSetCollision`` when two different units share an id.
        """
        sps = {sps_id(u): u for u in self.sps}
        pps = {pps_id(u): u for u in self.pps}
        for other in others:
            _add(sps, other.sps, sps_id, "SPS")
            _add(pps, other.pps, pps_id, "PPS")
        return AvcConfig(self.header, tuple(sps.values()), tuple(pps.values()), self.trailer)


def sps_id(unit: bytes) -> int:
    """``seq_parameter_set_id`` of an SPS NAL unit (after profile, constraints and level)."""
    return _BitReader(_rbsp(unit[1:8])[3:]).ue()


def pps_id(unit: bytes) -> int:
    """``pic_parameter_set_id`` of a PPS NAL unit."""
    return _BitReader(_rbsp(unit[1:8])).ue()


def _add(known: dict[int, bytes], units: Iterable[bytes], key: Callable[[bytes], int], kind: str) -> None:
    for unit in units:
        ident = key(unit)
        if known.setdefault(ident, unit) != unit:
            raise ParameterSetCollision(f"two different {kind}s with id {ident}")


def _units(data: bytes, pos: int, count: int) -> tuple[list[bytes], int]:
    if count < 0:
        raise ValueError("truncated avcC record")
    units = []
    for _ in range(count):
        size = int.from_bytes(data[pos : pos + 2], "big")
        unit = data[pos + 2 : pos + 2 + size]
        if size == 0 or len(unit) != size:
            raise ValueError("truncated avcC record")
        units.append(unit)
        pos += 2 + size
    return units, pos


def _rbsp(payload: bytes) -> bytes:
    """Drop emulation-prevention bytes (00 00 03 -> 00 00)."""
    return payload.replace(b"\x00\x00\x03", b"\x00\x00")


class _BitReader:
    def __init__(self, data: bytes) -> None:
        self.bits = "".join(f"{b:08b}" for b in data)
        self.pos = 0

    def ue(self) -> int:
        """An unsigned Exp-Golomb code."""
        zeros = 0
        while self.pos < len(self.bits) and self.bits[self.pos] == "0":
            zeros += 1
            self.pos += 1
        code = self.bits[self.pos : self.pos + zeros + 1]
        if len(code) != zeros + 1:
            raise ValueError("truncated parameter set")
        self.pos += zeros + 1
        return int(code, 2) - 1

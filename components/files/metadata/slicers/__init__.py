"""Slicer identification: the first parser whose ``identify`` matches wins."""

from __future__ import annotations

from .base import FIELDS, GcodeSource, SlicerParser, UnknownParser
from .cura import CuraParser
from .ideamaker import IdeaMakerParser
from .kisslicer import KISSlicerParser
from .misc import GenericParser, IceSLParser, KiriMotoParser
from .prusa import BambuStudioParser, PrusaFamilyParser, Slic3rParser, Slic3rPEParser
from .simplify3d import Simplify3DParser

__all__ = ["FIELDS", "PARSERS", "GcodeSource", "SlicerParser", "identify_parser"]

# Order matters: specific dialects before the families that would also match.
PARSERS: tuple[type[SlicerParser], ...] = (
    BambuStudioParser,
    Slic3rPEParser,
    Slic3rParser,
    PrusaFamilyParser,
    CuraParser,
    Simplify3DParser,
    KISSlicerParser,
    IdeaMakerParser,
    IceSLParser,
    KiriMotoParser,
    GenericParser,
)

# Identification only looks at the start of the file.
IDENT_WINDOW = 1024 * 1024


def identify_parser(src: GcodeSource) -> SlicerParser:
    header = src.head[:IDENT_WINDOW]
    for cls in PARSERS:
        try:
            ident = cls.identify(header)
        except Exception:  # pragma: no cover - identify() must not break extraction
            continue
        if ident is not None:
            name, version = ident
            return cls(src, name, version)
    return UnknownParser(src)

"""What the firmware said about itself in its M115 reply."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.hostlink.protocol.parsing import parse_marlin_version


@dataclass
class FirmwareDescription:
    """``fields`` holds the ``KEY:value`` pairs of the FIRMWARE_NAME line
    (FIRMWARE_NAME, SOURCE_CODE_URL, PROTOCOL_VERSION, MACHINE_TYPE,
    EXTRUDER_COUNT, UUID, ...); ``capabilities`` the ``Cap:NAME:0|1`` lines.
    A capability not reported counts as absent."""

    fields: dict[str, str] = field(default_factory=dict)
    capabilities: dict[str, bool] = field(default_factory=dict)
    advanced_ok: bool = False
    meatpack: bool = False  # the firmware confirmed MeatPack packing is on

    @property
    def name(self) -> str:
        return self.fields.get("FIRMWARE_NAME", "")

    @property
    def machine_type(self) -> str:
        return self.fields.get("MACHINE_TYPE", "")

    @property
    def extruder_count(self) -> int:
        try:
            return int(self.fields.get("EXTRUDER_COUNT", "1"))
        except ValueError:
            return 1

    @property
    def marlin_version(self) -> tuple[int, int, int] | None:
        """(2, 1, 2) for Marlin 2.1.2.x; None for other firmware."""
        return parse_marlin_version(self.name)

    def has(self, capability: str) -> bool:
        return self.capabilities.get(capability, False)

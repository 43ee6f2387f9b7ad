"""The G-code scripts Mainsail v2.18.2 and Fluidd v1.37.4 send from their controls, copied
from their sources as data (template strings filled the way the frontend fills them).
A frontend update that changes one is a one-line change here.

Sources (git --git-dir=/work/.mirror/<repo>/repo show <tag>:<path>):
  mainsail-crew/mainsail v2.18.2, fluidd-core/fluidd v1.37.4
"""

from __future__ import annotations

# -- Mainsail v2.18.2 ----------------------------------------------------------------------

# src/components/mixins/control.ts doSendMove(gcode, feedrate)
MAINSAIL_JOG = (
    "SAVE_GCODE_STATE NAME=_ui_movement\n"
    "G91\n"
    "G1 {gcode} F{feedrate60}\n"
    "RESTORE_GCODE_STATE NAME=_ui_movement"
)

# src/components/panels/ToolheadControls/MoveToControl.vue sendCmd() (X/Y changed, Z not)
MAINSAIL_MOVE_TO = (
    "SAVE_GCODE_STATE NAME=_ui_movement\n"
    "G90\n"
    "G1 X{x} Y{y} F{feedrate60}\n"
    "RESTORE_GCODE_STATE NAME=_ui_movement"
)

# src/components/panels/Extruder/ExtruderControlPanelControl.vue sendCommand(length, …)
MAINSAIL_EXTRUDE = (
    "SAVE_GCODE_STATE NAME=_ui_extrude\n"
    "M83\n"
    "G1 E{length} F{feedrate60}\n"
    "RESTORE_GCODE_STATE NAME=_ui_extrude"
)

# src/components/panels/ToolheadControls/ZoffsetControl.vue sendBabyStepUp/Down, clear
MAINSAIL_Z_UP = "SET_GCODE_OFFSET Z_ADJUST=+{offset} {move}"  # move: "MOVE=1" if homed xyz
MAINSAIL_Z_DOWN = "SET_GCODE_OFFSET Z_ADJUST=-{offset} {move}"
MAINSAIL_Z_CLEAR = "SET_GCODE_OFFSET Z=0{move}"  # move: " MOVE=1" if homed xyz

# src/components/panels/Temperature/TemperaturePanelPresets.vue preheat()
MAINSAIL_PRESET = "SET_HEATER_TEMPERATURE HEATER={name} TARGET={value}"
# src/store/gui/presets/index.ts cooldownGcode
MAINSAIL_COOLDOWN = "TURN_OFF_HEATERS"
# src/components/panels/Temperature/TemperaturePanelListItem.vue turnOffHeater()
MAINSAIL_HEATER_OFF = "SET_HEATER_TEMPERATURE HEATER={name} TARGET=0"
# src/components/panels/StatusPanel.vue (clear the finished job)
MAINSAIL_CLEAR_JOB = "SDCARD_RESET_FILE"
# src/components/panels/Status/ExcludeObject.vue, gcodeviewer/Viewer.vue
MAINSAIL_EXCLUDE = "EXCLUDE_OBJECT NAME={name}"
# src/components/panels/MachineSettingsPanel.vue
MAINSAIL_VELOCITY = "SET_VELOCITY_LIMIT {name}={value}"
# src/components/panels/Extruder/PressureAdvanceSettings.vue
MAINSAIL_PRESSURE_ADVANCE = "SET_PRESSURE_ADVANCE EXTRUDER={extruder} {name}={value}"
# src/components/panels/Status/PauseAtLayerDialog.vue sendCommand()
MAINSAIL_PAUSE_AT_LAYER = "SET_PAUSE_AT_LAYER ENABLE=1 LAYER={layer} MACRO={call}"
MAINSAIL_PAUSE_NEXT_LAYER = "SET_PAUSE_NEXT_LAYER ENABLE=1 MACRO={call}"

# -- Fluidd v1.37.4 --------------------------------------------------------------------------

# src/mixins/state.ts sendMoveGcode(movement, rate, absolute)
FLUIDD_MOVE = (
    "SAVE_GCODE_STATE NAME=_ui_movement\n"
    "G9{absolute}\n"
    "G1 {movement} F{rate60}\n"
    "RESTORE_GCODE_STATE NAME=_ui_movement"
)

# src/mixins/state.ts sendExtrudeGcode(amount, rate)
FLUIDD_EXTRUDE = (
    "SAVE_GCODE_STATE NAME=_ui_retract\n"
    "M83\n"
    "G1 E{amount} F{rate60}\n"
    "RESTORE_GCODE_STATE NAME=_ui_retract"
)

# src/components/widgets/toolhead/ZHeightAdjust.vue sendZAdjustGcode(direction)
FLUIDD_Z_ADJUST = "SET_GCODE_OFFSET Z_ADJUST={direction}{distance} MOVE={homed}"
# src/components/widgets/thermals/TemperatureTargets.vue (encodeGcodeParamValue(heater))
FLUIDD_SET_TARGET = "SET_HEATER_TEMPERATURE HEATER={heater} TARGET={target}"
# src/components/widgets/thermals/TemperatureCard.vue
FLUIDD_COOLDOWN = "TURN_OFF_HEATERS"
# src/components/widgets/status/StatusControls.vue
FLUIDD_CLEAR_JOB = "SDCARD_RESET_FILE"
# src/components/widgets/exclude-objects/ExcludeObjectsDialog.vue
FLUIDD_EXCLUDE = "EXCLUDE_OBJECT NAME={name}"  # name through encodeGcodeParamValue
# src/components/widgets/limits/PrinterLimits.vue
FLUIDD_VELOCITY = "SET_VELOCITY_LIMIT VELOCITY={value}"
FLUIDD_ACCEL = "SET_VELOCITY_LIMIT ACCEL={value}"
FLUIDD_ACCEL_TO_DECEL = "SET_VELOCITY_LIMIT ACCEL_TO_DECEL={value}"
FLUIDD_CRUISE_RATIO = "SET_VELOCITY_LIMIT MINIMUM_CRUISE_RATIO={value}"  # value / 100
FLUIDD_SCV = "SET_VELOCITY_LIMIT SQUARE_CORNER_VELOCITY={value}"
# src/components/widgets/outputs/OutputFan.vue (fan_generic)
FLUIDD_FAN = "SET_FAN_SPEED FAN={name} SPEED={speed}"


def encode_gcode_param_value(value: str) -> str:
    """Fluidd's src/util/gcode-helpers.ts encodeGcodeParamValue, in Python."""
    if any(c in value for c in " '\"#;=\\"):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value

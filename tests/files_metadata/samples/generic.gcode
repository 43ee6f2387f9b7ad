;Generated with FlashPrint 5.8.1
;machine_type: Adventurer 4
G28
M140 S55
M104 S205
G1 Z0.2 F3000
G1 X10 Y10 E1
G1 Z0.4 F3000
G1 X20 Y20 E2
M104 S0

; HEADER_BLOCK_START
; BambuStudio 01.08.04.51
; model printing time: 16m 10s; total estimated time: 22m 56s
; total layer number: 127
; total filament length [mm] : 2020.12
; total filament volume [cm^3] : 4858.06
; total filament weight [g] : 6.03
; filament_density: 1.24
; filament_diameter: 1.75
; max_z_height: 35.48
; HEADER_BLOCK_END

; THUMBNAIL_BLOCK_START
; thumbnail begin 32x32 756
; iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAIAAAD8GO2jAAAB/UlEQVR4nNXWIYwiYQyG4d7tbjLrkE
; jMiYoVSCQWc0nlKzmHRZyoHIlFIitHYpHIyrFIJLJ2bjCbnFizCYLmE1/SP6l4zC8iNMJEmAozQYW5
; sBCWwkowAWEtbISt4EIr7IS9cBBC6ISjcBLOQgq9cBGuwk0oYRB+SDMekM+8f9G/txr7z/8ePiAvMv
; l4fZXPvH3Rv7e69/udx47SKBNlqswUVebKQlkqK8UUlLWyUbaKK62yU/bKQQmlU47KSTkrqfTKRbkq
; N6WUQUfk+dMj/3o08vujkY3GmBhTY2aoMTcWxtJYGWZgrI2NsTXcaI2dsTcORhidcTROxtlIozcuxt
; W4GWUMNiLz9MiLp0d2GmfiTJ2Zo87cWThLZ+WYg7N2Ns7Wcad1ds7eOTjhdM7ROTlnJ53euThX5+aU
; M/iI3D498u+P1zf5zNsX/Xure7/feewETTAJpsEs0GAeLIJlsAosIFgHm2AbeNAGu2AfHIIIuuAYnI
; JzkEEfXIJrcAsqGGJE7p4e+c/TIydNMkmmySzRZJ4skmWySiwhWSebZJt40ia7ZJ8ckki65JicknOS
; SZ9ckmtySyoZckTuH438Lg/Ni/x9+o9X0RSTYlrMCi3mxaJYFqvCCop1sSm2hRdtsSv2xaGIoiuOxa
; k4F1n0xaW4FreiiqFG5OGxyP8AMuBGCKK6QUgAAAAASUVORK5CYII=
; thumbnail end
; THUMBNAIL_BLOCK_END

; CONFIG_BLOCK_START
; chamber_temperatures = 0
; cool_plate_temp_initial_layer = 35
; curr_bed_type = Cool Plate
; filament_colour = #ECA514FF
; filament_settings_id = "Bambu PLA Basic @BBL A1M"
; filament_type = PLA
; hot_plate_temp_initial_layer = 55
; initial_layer_print_height = 0.2
; layer_height = 0.28
; nozzle_diameter = 0.4
; nozzle_temperature = 220
; nozzle_temperature_initial_layer = 225
; printer_model = Bambu Lab A1 mini
; CONFIG_BLOCK_END

; EXECUTABLE_BLOCK_START
M73 P0 R22
M73.2   R1.0 ;Reset left time magnitude
G28
; CHANGE_LAYER
; Z_HEIGHT: 0.2
; LAYER_HEIGHT: 0.28
; layer num/total_layer_count: 1/127
G1 Z0.2 F720
G1 X50.000 Y60.000 E0.31000 F1500
G1 X52.000 Y61.000 E0.62000 F1500
G1 X54.000 Y62.000 E0.93000 F1500
; CHANGE_LAYER
; Z_HEIGHT: 0.48
; LAYER_HEIGHT: 0.28
; layer num/total_layer_count: 2/127
G1 Z0.48 F720
G1 X50.100 Y60.000 E1.24000 F1500
G1 X52.100 Y61.000 E1.55000 F1500
G1 X54.100 Y62.000 E1.86000 F1500
; CHANGE_LAYER
; Z_HEIGHT: 0.76
; LAYER_HEIGHT: 0.28
; layer num/total_layer_count: 3/127
G1 Z0.76 F720
G1 X50.200 Y60.000 E2.17000 F1500
G1 X52.200 Y61.000 E2.48000 F1500
G1 X54.200 Y62.000 E2.79000 F1500
; CHANGE_LAYER
; Z_HEIGHT: 1.04
; LAYER_HEIGHT: 0.28
; layer num/total_layer_count: 4/127
G1 Z1.04 F720
G1 X50.300 Y60.000 E3.10000 F1500
G1 X52.300 Y61.000 E3.41000 F1500
G1 X54.300 Y62.000 E3.72000 F1500
; CHANGE_LAYER
; Z_HEIGHT: 1.32
; LAYER_HEIGHT: 0.28
; layer num/total_layer_count: 5/127
G1 Z1.32 F720
G1 X50.400 Y60.000 E4.03000 F1500
G1 X52.400 Y61.000 E4.34000 F1500
G1 X54.400 Y62.000 E4.65000 F1500
M140 S0 ; turn off bed
M104 S0 ; turn off hotend
M73 P100 R0
; EXECUTABLE_BLOCK_END


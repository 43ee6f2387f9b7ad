"""Run a real, built Mainsail or Fluidd against Skysail + the virtual printer in headless
Chromium and record every call the frontend makes (by hand, not part of the pytest suite).

    .venv/bin/python -m bench.frontend_e2e --dist /tmp/mainsail-src/dist --name mainsail \
        --out docs/images
    .venv/bin/python -m bench.frontend_e2e --dist /tmp/fluidd-src/dist --name fluidd \
        --out docs/images

What it does:
* starts Skysail as its own process (`python -m gateway -d <tmp> -n`) with `[web] path: <dist>`,
  `[serial] port: virtual`, `virtual_time_scale` (default 10) on a free loopback port;
* uploads a PrusaSlicer-looking G-code file (header and thumbnails copied at run time from
  tests/files_metadata/samples/prusaslicer.gcode, a longer body generated here);
* opens the frontend in headless Chromium (Debian's /usr/bin/chromium) over the DevTools
  protocol with the `Network` domain on: every websocket frame is decoded, each JSON-RPC request
  is paired with its answer (ok / error code + message / unanswered), every HTTP request is
  logged with its status, and the page's console errors and exceptions are kept;
* waits for the UI to initialise, takes screenshots of the dashboard, files, console, history and
  machine pages, starts the print by clicking through the UI, screenshots the dashboard while it
  prints, types M114 into the console input, uploads a second file through the UI's file input,
  waits for the print to end (or cancels it), and screenshots history and the machine page;
* writes `<out>/<name>-*.png`, a JSON log (`--log`, default /tmp/frontend_e2e-<name>.json) and a
  Markdown summary of the calls (`--summary`, default /tmp/frontend_e2e-<name>.md).
"""

from bench.frontend_e2e.cdp import Cdp, launch_chromium, screenshot
from bench.frontend_e2e.frontends import FRONTENDS, click_text_js, emit, goto, js
from bench.frontend_e2e.gcode import http_json, make_gcode, upload
from bench.frontend_e2e.recorder import Recorder

__all__ = ["FRONTENDS", "Cdp", "Recorder", "click_text_js", "emit", "goto", "http_json", "js",
           "launch_chromium", "make_gcode", "screenshot", "upload"]

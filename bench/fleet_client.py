"""A fleet by MQTT alone: watch every printer on a broker, start a print on one.

    .venv/bin/python -m bench.fleet_client --broker 127.0.0.1 --port 1883 \
        --start printer2 cube.gcode

Prints one line per state change (online/offline, print state, temperatures) of every
Skysail (or Moonraker) instance publishing on the broker, and the answer to the print
request. Needs only the broker: no HTTP, no websocket.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
from typing import Any

import aiomqtt

_ids = itertools.count(1)


def rpc(method: str, **params: Any) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "method": method, "params": params,
                       "id": next(_ids)}).encode()


def describe(status: dict[str, Any]) -> str:
    parts = []
    for name, fields in status.items():
        shown = ", ".join(f"{k}={v}" for k, v in fields.items())
        parts.append(f"{name}({shown})")
    return " ".join(parts)


async def watch(broker: str, port: int, start: tuple[str, str] | None) -> None:
    async with aiomqtt.Client(broker, port) as client:
        for topic in ("+/moonraker/status", "+/klipper/status", "+/moonraker/api/response"):
            await client.subscribe(topic, qos=1)
        if start is not None:
            instance, filename = start
            await client.publish(f"{instance}/moonraker/api/request",
                                 rpc("printer.print.start", filename=filename), qos=1)
        async for message in client.messages:
            instance, _, kind = str(message.topic).partition("/")
            payload = json.loads(bytes(message.payload or b"{}"))  # type: ignore[arg-type]
            if kind == "moonraker/status":
                print(f"{instance}: server {payload.get('server')}")
            elif kind == "klipper/status":
                print(f"{instance}: {describe(payload['status'])}")
            else:
                print(f"{instance}: answer {payload.get('result', payload.get('error'))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--broker", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--start", nargs=2, metavar=("INSTANCE", "FILE"))
    args = parser.parse_args()
    start = (args.start[0], args.start[1]) if args.start else None
    try:
        asyncio.run(watch(args.broker, args.port, start))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

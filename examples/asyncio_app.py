"""
An asyncio program that runs a UPnP device beside its own work: the device
is found, described, controlled and evented while the program's own task
prints a heartbeat every second. Ctrl-C or SIGTERM stops it cleanly: the
device says byebye before the program exits.

    python examples/asyncio_app.py --config examples/light.ini --interface lo
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from twisted.logger import globalLogBeginner, textFileLogObserver

from upnp_announce import ConfigError, StartError, aio


async def heartbeat() -> None:
    beats = 0
    while True:
        await asyncio.sleep(1)
        beats += 1
        print(f"heartbeat {beats}", flush=True)


async def main(config: str, interfaces: list[str]) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        device = aio.from_config(config, interfaces=interfaces)
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 1
    try:
        async with aio.running(device) as running:
            for location in running.locations(running.device.UDN):
                print(f"serving {running.device.friendlyName} at {location}", flush=True)
            beating = asyncio.create_task(heartbeat())
            await stop.wait()
            beating.cancel()
            print("stopping", flush=True)
    except StartError as e:
        print(f"cannot start: {e}", file=sys.stderr)
        return 1
    finally:
        # Twisted's threads, if anything started them, must not keep the
        # program from exiting.
        aio.shutdown()
    print("stopped: byebye sent", flush=True)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--config", required=True, help="the INI file of the device")
    parser.add_argument("--interface", action="append", default=[],
                        help="an interface to serve on (repeatable; default: [network])")
    arguments = parser.parse_args()
    # The device's log lines (serving, subscribers, refusals) on stderr.
    globalLogBeginner.beginLoggingTo([textFileLogObserver(sys.stderr)], redirectStandardIO=False)
    sys.exit(asyncio.run(main(arguments.config, arguments.interface)))

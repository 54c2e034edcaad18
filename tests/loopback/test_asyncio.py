"""
upnp_announce.aio on loopback, each in a fresh interpreter (a reactor is
installed once a process): start and stop as awaitables on the
application's loop, and a clear error when another reactor came first.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from support import example

pytestmark = [pytest.mark.slow]


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=60)


def test_a_device_starts_and_stops_as_awaitables_on_the_applications_loop() -> None:
    result = run(f"""
        import asyncio
        from upnp_announce import aio

        async def get(host, port, path):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(f"GET {{path}} HTTP/1.1\\r\\nHost: {{host}}:{{port}}\\r\\n"
                         "Connection: close\\r\\n\\r\\n".encode())
            data = await reader.read()
            writer.close()
            return data

        async def main():
            loop = asyncio.get_running_loop()
            device = aio.from_config({example("light.ini")!r}, interfaces=["lo"])
            async with aio.running(device, announced=True) as running:
                from twisted.internet import reactor
                assert reactor._asyncioEventloop is loop
                [binding] = [b for b in running.bindings if b.interface.address == "127.0.0.1"]
                data = await get("127.0.0.1", binding.port, "/description.xml")
                print(data.split(b"\\r\\n", 1)[0].decode())
                print("Kitchen light" in data.decode())
            print("running" if device.running else "stopped")
            # Started and stopped again, on the same loop.
            await aio.start(device)
            await aio.stop(device)
            print("again")

        asyncio.run(main())
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["HTTP/1.1 200 OK", "True", "stopped", "again"]


def test_another_reactor_installed_first_is_a_clear_error() -> None:
    result = run("""
        import asyncio
        from twisted.internet import reactor  # the default reactor
        from upnp_announce import aio

        async def main():
            try:
                aio.install_reactor()
            except aio.ReactorError as e:
                print(e)

        asyncio.run(main())
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Twisted's reactor is already installed (EPollReactor)")


def test_cancelled_while_waiting_for_its_first_announcement_it_is_stopped() -> None:
    # An interface that is not there: the device waits for it, and the
    # wait is given up.
    result = run(f"""
        import asyncio
        from upnp_announce import aio

        async def main():
            device = aio.from_config({example("light.ini")!r}, interfaces=["nosuch0"])
            try:
                async with asyncio.timeout(1):
                    async with aio.running(device, announced=True):
                        print("never")
            except TimeoutError:
                print("timed out")
            print("running" if device.running else "stopped")

        asyncio.run(main())
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["timed out", "stopped"]


def test_a_stop_that_is_cancelled_still_finishes() -> None:
    result = run(f"""
        import asyncio
        from upnp_announce import aio

        async def main():
            device = aio.from_config({example("light.ini")!r}, interfaces=["lo"])
            from twisted.internet import reactor
            before = len(reactor.getReaders())  # (the reactor's own waker)
            await aio.start(device)
            stopping = asyncio.ensure_future(aio.stop(device))
            await asyncio.sleep(0)
            stopping.cancel()
            try:
                await stopping
            except asyncio.CancelledError:
                print("cancelled")
            await asyncio.sleep(1)
            print("running" if device.running else "stopped", len(reactor.getReaders()) - before)

        asyncio.run(main())
    """)
    assert result.returncode == 0, result.stderr
    # Stopped all the same: no socket left open.
    assert result.stdout.splitlines() == ["cancelled", "stopped 0"]


def test_shutdown_lets_the_program_exit_after_twisted_used_threads() -> None:
    result = run("""
        import asyncio
        from upnp_announce import aio

        async def main():
            aio.install_reactor()
            from twisted.internet.threads import deferToThread
            loop = asyncio.get_running_loop()
            print(await deferToThread(lambda: 6 * 7).asFuture(loop))
            aio.shutdown()

        asyncio.run(main())
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "42\n"


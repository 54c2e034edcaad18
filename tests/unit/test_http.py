"""
The twisted.web pieces both sides share (upnp_announce.wire.http).
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer


def test_a_capped_read_that_times_out_closes_the_connection() -> None:
    from upnp_announce.wire.http import read_capped

    class Transport:
        stopped = False

        def stopProducing(self) -> None:
            self.stopped = True

    transport = Transport()

    class Response:
        def deliverBody(self, protocol: Any) -> None:
            protocol.makeConnection(transport)

    reading = read_capped(Response(), 100)
    reading.addErrback(lambda f: f.trap(defer.CancelledError))
    reading.cancel()
    assert transport.stopped

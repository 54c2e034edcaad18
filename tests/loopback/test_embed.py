"""
README's embedding example is examples/embed.tac, and it runs.
"""

from __future__ import annotations

import pytest_twisted
from twisted.application import service
from twisted.internet import reactor
from twisted.web.client import Agent, readBody

from upnp_announce import UPnPService

from support import example, ipv4, readme_code_blocks


def test_readme_shows_the_example_as_it_is() -> None:
    with open(example("embed.tac"), encoding="utf-8") as f:
        tac = f.read()
    assert tac in readme_code_blocks()
    assert 10 <= len(tac.splitlines()) <= 20


@pytest_twisted.ensureDeferred
async def test_the_example_serves_its_device() -> None:
    application = service.loadApplication(example("embed.tac"), "python")
    [upnp] = list(service.IServiceCollection(application))
    assert isinstance(upnp, UPnPService)
    service.IService(application).startService()
    try:
        binding = ipv4(await upnp.whenListening())
        response = await Agent(reactor).request(b"GET", binding.location.encode())
        body = await readBody(response)
        assert response.code == 200
        assert b"<friendlyName>Embedded Jambon</friendlyName>" in body
        assert b"<UDN>uuid:7c0e5b0a-1f0e-4e8b-9a55-3d2f7b9e6c41</UDN>" in body
    finally:
        await service.IService(application).stopService()

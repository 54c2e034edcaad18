"""Events from outside any action: a provider whose state changes on a timer."""
from twisted.internet import task

from upnp_announce.provider import ServiceProvider, StateVariable, action


class Ticker(ServiceProvider):
    serviceType = "urn:boucherie.example.com:service:Ticker:1"
    serviceId = "urn:boucherie.example.com:serviceId:Ticker"

    Ticks = StateVariable("ui4", default=0, evented=True, maximumRate=5)

    def __init__(self, clock=None, interval=1.0):
        super().__init__()
        self.loop = task.LoopingCall(self.tick)
        if clock is not None:
            self.loop.clock = clock
        self.loop.start(interval, now=False)

    def tick(self):
        self.Ticks += 1  # every subscriber hears of it (at most every 5 s)

    @action(returns={"CurrentTicks": Ticks})
    def GetTicks(self):
        return self.Ticks

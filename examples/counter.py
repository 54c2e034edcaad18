"""A counter service: a complete provider."""
from upnp_announce import UPnPError
from upnp_announce.provider import ServiceProvider, StateVariable, action


class Counter(ServiceProvider):
    serviceType = "urn:boucherie.example.com:service:Counter:1"
    serviceId = "urn:boucherie.example.com:serviceId:Counter"

    Count = StateVariable("ui4", default=0, evented=True)
    A_ARG_TYPE_Step = StateVariable("ui4", range=(1, 100))

    @action(Step=A_ARG_TYPE_Step, returns={"NewCount": Count})
    def Increment(self, Step):
        self.Count += Step
        return self.Count

    @action(returns={"CurrentCount": Count})
    def GetCount(self):
        return self.Count

    @action()
    def Reset(self):
        if self.Count == 0:
            raise UPnPError(701, "Already at zero")
        self.Count = 0

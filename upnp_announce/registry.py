"""
Finding providers: C{provider = NAME} names a plugin (an L{IProviderFactory}
in C{upnp_announce.plugins} or any package's C{twisted/plugins}), and
C{provider = package.module:attribute} names one directly.
"""

from __future__ import annotations

import importlib
from typing import Any

from twisted.plugin import getPlugins

from upnp_announce.provider import (
    IDeviceProvider,
    IProviderFactory,
    IServiceProvider,
    ProviderFactory,
)

__all__ = ["ProviderError", "available", "resolve"]


class ProviderError(ValueError):
    """
    A provider name that names no provider, or one of the wrong kind.
    """


def available() -> dict[str, IProviderFactory]:
    """
    Every provider plugin, by name; built-in ones first.
    """
    import twisted.plugins
    import upnp_announce.plugins

    found: dict[str, IProviderFactory] = {}
    for package in (upnp_announce.plugins, twisted.plugins):
        for factory in getPlugins(IProviderFactory, package):
            found.setdefault(factory.name, factory)
    return found


def _listing(kind: str) -> str:
    names = [f"{f.name} ({f.summary})" for f in available().values() if f.kind == kind]
    return "; the " + kind + " providers are: " + (", ".join(sorted(names)) or "none")


def _imported(spec: str, kind: str) -> IProviderFactory:
    module, _, attribute = spec.partition(":")
    try:
        imported = importlib.import_module(module)
    except Exception as e:
        # Whatever importing the user's module raises, the user gets one line.
        raise ProviderError(f"cannot import {module!r}: {e}") from None
    try:
        target = getattr(imported, attribute)
    except AttributeError:
        raise ProviderError(f"{module!r} has no {attribute!r}") from None
    if IProviderFactory.providedBy(target):
        return target
    provided = IServiceProvider if kind == "service" else IDeviceProvider
    if isinstance(target, type) and provided.implementedBy(target):
        cls: Any = target
        summary = next(iter((cls.__doc__ or "").strip().splitlines()), spec)
        return ProviderFactory(spec, kind, summary, lambda options: cls())
    raise ProviderError(
        f"{spec!r} is neither a provider factory nor a class implementing "
        f"{provided.__name__}"
    )


def resolve(name: str, kind: str) -> IProviderFactory:
    """
    The provider factory C{name} names, for a C{kind} (C{"device"} or
    C{"service"}) section.

    @raise ProviderError: one sentence, listing the providers there are.
    """
    if ":" in name:
        factory = _imported(name, kind)
    else:
        factory = available().get(name)  # type: ignore[assignment]
        if factory is None:
            raise ProviderError(f"there is no provider {name!r}" + _listing(kind))
    if factory.kind != kind:
        raise ProviderError(
            f"{name!r} provides a {factory.kind}, not a {kind}" + _listing(kind)
        )
    return factory

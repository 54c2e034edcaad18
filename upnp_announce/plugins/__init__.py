"""
Provider plugins: the built-in ones live here; other distributions may add
modules to an C{upnp_announce/plugins} folder of their own (without an
C{__init__.py}), or to C{twisted/plugins}.
"""

from twisted.plugin import pluginPackagePaths

__path__.extend(pluginPackagePaths(__name__))
__all__: list[str] = []

"""mtqa's version, as installed (it goes into every signature)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mtqa")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+source"

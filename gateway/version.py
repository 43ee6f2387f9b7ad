from importlib import metadata

try:
    VERSION = metadata.version("skysail")
except metadata.PackageNotFoundError:  # running from a source tree
    VERSION = "0.1.0"

API_VERSION = (1, 5, 0)
API_VERSION_STRING = ".".join(str(p) for p in API_VERSION)

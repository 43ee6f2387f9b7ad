from importlib import metadata

try:
    VERSION = metadata.version("skysail")
except metadata.PackageNotFoundError:  # running from a source tree
    VERSION = "0.1.0"

API_VERSION = (1, 5, 0)
API_VERSION_STRING = ".".join(str(p) for p in API_VERSION)

# what server.info reports as moonraker_version: the Moonraker release whose API we serve,
# then ours. Mainsail and Fluidd compare it with their minimum (v0.8.0-306/309) and show an
# "update Moonraker" banner below it; "0.1.0" alone would read as very old.
MOONRAKER_VERSION = f"v0.11.0-skysail-{VERSION}"

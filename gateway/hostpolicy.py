"""The API cannot reach past the data directory (rule 10, issue 17.1).

Some config options name host paths or programs: a folder that becomes a file root or
is served, a program that is run, a serial device that is opened. The config file lives
in the `config` root, which the API can write, so such an option is accepted only when

* it is its default, or names a place inside the data directory that overlaps none of
  the places the data directory already has a job for (config, logs, gcodes, database,
  the other options' folders); for a program: the same program its default finds on
  the service's PATH; for a serial port: `virtual` or a tty under /dev; or
* the **host policy file** allows it: an INI file outside the data directory that the
  API cannot write (scripts/install.sh writes PREFIX/host-policy.conf, owned by root,
  and passes it with `--host-policy`). Each option lists the values it may take:

      [timelapse]
      output_path: /mnt/usb/timelapse
      ffmpeg_path: /usr/local/bin/ffmpeg
      [web]
      path: /opt/skysail/mainsail

  A folder entry allows itself and everything below it; a program entry allows that
  program (by path, or a name looked up on PATH); a device entry that exact value.

At start-up every such option is checked; one that fails is dropped (its default is
used) with a warning naming it, so a file edited by other means cannot widen access
silently. A config written through the API (`files` uploads, moves, copies) that
changes such an option to a value that would fail is refused before it is saved.

`HOST_OPTIONS` is the one list of these options; a component adding an option that
names a host path or program adds it here (tests/security/test_host_policy.py walks
every config struct for path- and program-like names that are missing).
"""

from __future__ import annotations

import configparser
import enum
import fnmatch
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from gateway.config import Config, ConfigError, split_list
from gateway.errors import BadRequest, Forbidden

# the file scripts/install.sh writes and passes with --host-policy
POLICY_NAME = "host-policy.conf"
_NULL_WORDS = {"", "none", "null"}
# data-directory folders with a job of their own: no option may overlap them
RESERVED_FOLDERS = ("config", "logs", "gcodes", "database", "config_examples", "backup")
_TTY_PREFIXES = ("tty", "rfcomm")
_SERIAL_LINK_DIRS = ("/dev/serial/by-id", "/dev/serial/by-path")


class Kind(enum.Enum):
    FOLDER = "folder"  # read, written or served
    FILE = "file"  # read (a password file): in the config folder
    PROGRAM = "program"  # run
    CODE = "code"  # a folder whose contents are run or installed: never from the API
    # files read and sent elsewhere (notification attachments), a list: inside the data
    # directory but its database and backups; http(s) URLs are no files. Templates are
    # judged when rendered (`readable`)
    READ = "read"
    DEVICE = "device"  # a serial port opened with pyserial (URLs too: spy:// writes files)
    # where the updater downloads code from to install, serve or run (a release list URL,
    # a GitHub repository, a git remote): unset or an official project (`known`) only
    SOURCE = "source"


@dataclass(frozen=True, slots=True)
class HostOption:
    section: str  # a section name, or a pattern such as "power *"
    option: str
    kind: Kind
    # FOLDER: the data-directory folder used when unset (None: nothing);
    # PROGRAM: the program run when unset; DEVICE: the default port
    default: str | None
    # a required option: when refused, the whole section is left out (with the warning)
    required: bool = False
    # folders of one group may be the same folder (the web client update_manager
    # installs is the one [web] path serves)
    group: str | None = None
    # SOURCE: the values accepted without the policy file (the official projects)
    known: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"[{self.section}] {self.option}"


# the web clients scripts/install.sh installs; their release zips are what any
# `[update_manager NAME]` web client may be upgraded from without the policy file
KNOWN_WEB_REPOS = ("mainsail-crew/mainsail", "fluidd-core/fluidd")


HOST_OPTIONS: tuple[HostOption, ...] = (
    HostOption("web", "path", Kind.FOLDER, None, group="frontend"),
    HostOption("database", "database_path", Kind.FOLDER, "database"),
    HostOption("timelapse", "output_path", Kind.FOLDER, "timelapse"),
    HostOption("timelapse", "frame_path", Kind.FOLDER, "timelapse_frames"),
    HostOption("timelapse", "ffmpeg_path", Kind.PROGRAM, "ffmpeg"),
    HostOption("serial", "port", Kind.DEVICE, "virtual"),
    HostOption("mqtt", "password_file", Kind.FILE, None),
    # Skysail's own checkout and environment: found by themselves when unset
    HostOption("update_manager skysail", "path", Kind.CODE, None),
    HostOption("update_manager skysail", "virtualenv", Kind.CODE, None),
    HostOption("update_manager moonraker", "path", Kind.CODE, None),
    HostOption("update_manager moonraker", "virtualenv", Kind.CODE, None),
    # where a hard recover clones Skysail from (unset: the checkout's own remote)
    HostOption("update_manager skysail", "origin", Kind.SOURCE, None),
    HostOption("update_manager moonraker", "origin", Kind.SOURCE, None),
    HostOption("notifier *", "attach", Kind.READ, None),
    # a web client's folder: release archives are unpacked there, and it may be served
    HostOption("update_manager *", "path", Kind.FOLDER, None, required=True,
               group="frontend"),
    # where a web client's release zips come from: they are unpacked into the folder
    # [web] path serves, so they run in browsers with the API's own origin
    HostOption("update_manager *", "repo", Kind.SOURCE, None, required=True,
               known=KNOWN_WEB_REPOS),
    # unset: GitHub's release list for `repo`; any other URL (a mirror, a local server)
    # only as the policy file lists it (else the updater could be sent anywhere)
    HostOption("update_manager *", "releases_url", Kind.SOURCE, None),
)


class PolicyError(ConfigError):
    """The policy file cannot be read; start-up stops with this message."""


def _real(path: str | Path) -> Path:
    """Absolute, `~` expanded, symlinks resolved (as far as they exist)."""
    return Path(os.path.realpath(Path(path).expanduser()))


def _overlap(a: Path, b: Path) -> bool:
    return a == b or a.is_relative_to(b) or b.is_relative_to(a)


def _which(program: str) -> Path | None:
    found = shutil.which(program)
    return _real(found) if found is not None else None


def _is_null(value: str) -> bool:
    return value.strip().lower() in _NULL_WORDS


def _same_source(a: str, b: str) -> bool:
    """One download source: URLs exactly (but a trailing slash), GitHub's owner/name
    case-insensitively (as GitHub resolves them)."""
    a, b = a.strip().rstrip("/"), b.strip().rstrip("/")
    if "://" in a or "://" in b:
        return a == b
    return a.lower() == b.lower()


@dataclass(frozen=True, slots=True)
class _Setting:
    option: HostOption
    section: str  # the actual section name ("power printer" for "power *")
    value: str

    @property
    def name(self) -> str:
        return f"[{self.section}] {self.option.option}"


def host_settings(config: Config) -> list[_Setting]:
    """The host options set (to something other than a null word) in `config`."""
    found: list[_Setting] = []
    for section in config.sections():
        raw = config.peek(section)
        for name, value in raw.items():
            option = find_option(section, name)
            if option is not None and not _is_null(value):
                found.append(_Setting(option, section, value.strip()))
    return found


def find_option(section: str, option: str) -> HostOption | None:
    """The first entry of HOST_OPTIONS for `[section] option` (specific names first)."""
    for entry in HOST_OPTIONS:
        if entry.option == option and (
                section == entry.section or fnmatch.fnmatchcase(section, entry.section)):
            return entry
    return None


class HostPolicy:
    def __init__(
        self,
        data_dir: Path,
        config_path: Path,
        allowed: dict[tuple[str, str], list[str]] | None = None,
        source: Path | None = None,
    ) -> None:
        self.data_dir = _real(data_dir)
        self.config_path = Path(os.path.abspath(config_path.expanduser()))
        self.source = source
        self.allowed = allowed or {}
        self.warnings: list[str] = []
        self._screen_entries()

    # -- the policy file ------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path | None, data_dir: Path, config_path: Path) -> HostPolicy:
        """The policy in `path` (None or a missing file: nothing beyond the defaults and
        the data directory). A policy inside the data directory is ignored: the API
        could write it."""
        if path is None:
            return cls(data_dir, config_path)
        real = _real(path)
        if not real.exists():
            policy = cls(data_dir, config_path, source=path)
            policy.warnings.append(
                f"host policy file {path} does not exist: options naming host paths or "
                "programs are accepted only inside the data directory")
            return policy
        if _overlap(real, _real(data_dir)):
            policy = cls(data_dir, config_path, source=path)
            policy.warnings.append(
                f"host policy file {path} is inside the data directory, where the API "
                "could change it: ignored")
            return policy
        parser = configparser.ConfigParser(interpolation=None, strict=True)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        try:
            with open(real, encoding="utf-8") as f:
                parser.read_file(f)
        except (OSError, UnicodeDecodeError, configparser.Error) as exc:
            raise PolicyError(f"host policy file {path}: {exc}") from None
        allowed: dict[tuple[str, str], list[str]] = {}
        unknown: list[str] = []
        for section in parser.sections():
            for option, raw in parser.items(section):
                known = find_option(section, option) is not None
                if not known:
                    unknown.append(f"[{section}] {option}")
                    continue
                values = split_list(raw)
                allowed.setdefault((section, option), []).extend(values)
        policy = cls(data_dir, config_path, allowed, source=path)
        for name in unknown:
            policy.warnings.append(
                f"host policy file {path}: {name} is not an option naming a host path or "
                "program; ignored")
        return policy

    def _screen_entries(self) -> None:
        """A folder entry that holds the data directory, the config file or the policy
        itself would hand the API what the policy keeps from it: refused."""
        protected = [self.data_dir, _real(self.config_path)]
        if self.source is not None:
            protected.append(_real(self.source))
        for (section, option), values in self.allowed.items():
            entry = find_option(section, option)
            if entry is None or entry.kind not in (Kind.FOLDER, Kind.CODE, Kind.FILE):
                continue
            kept = []
            for value in values:
                real = _real(value)
                if any(p == real or p.is_relative_to(real) for p in protected):
                    self.warnings.append(
                        f"host policy file {self.source}: [{section}] {option}: {value} "
                        "holds the data directory, the config file or the policy itself; "
                        "ignored")
                else:
                    kept.append(value)
            values[:] = kept

    def describe(self) -> str:
        return str(self.source) if self.source is not None else "none given (--host-policy)"

    # -- judging one value ----------------------------------------------------------------

    def problem(self, setting: _Setting, others: Iterable[_Setting] = ()) -> str | None:
        """Why `setting` may not be used, or None when it may."""
        option, value = setting.option, setting.value
        if self._allowed_by_policy(setting):
            return None
        if option.kind is Kind.PROGRAM:
            return self._program_problem(option, value)
        if option.kind is Kind.DEVICE:
            return self._device_problem(value)
        if option.kind is Kind.CODE:
            return (f"{value!r}: what is run or installed from there must be allowed in the "
                    "host policy file (unset, it is found by itself)")
        if option.kind is Kind.FILE:
            return self._file_problem(value)
        if option.kind is Kind.SOURCE:
            if any(_same_source(value, known) for known in option.known):
                return None
            official = (f"only {' or '.join(option.known)} is" if option.known
                        else "leaving it unset is")
            return (f"{value!r}: code is downloaded from there and installed; "
                    f"{official} accepted unless the host policy file lists it")
        if option.kind is Kind.READ:
            for item in split_list(value):
                if "{" not in item:  # a template: judged when rendered
                    problem = self.readable(item, setting.section, option.option)
                    if problem is not None:
                        return problem
            return None
        return self._folder_problem(setting, others)

    def readable(self, value: str, section: str, option: str) -> str | None:
        """At run time: why the server may not read `value` (a path or `file://` URL)
        for `[section] option` and send it elsewhere; None when it may. An http(s) URL
        is no file of this host."""
        scheme, sep, rest = value.partition("://")
        if sep and scheme.lower() in ("http", "https"):
            return None
        path = rest if sep and scheme.lower() == "file" else value
        if sep and scheme.lower() != "file":
            return f"{value!r}: only paths and http(s) URLs"
        real = _real(path)
        if any(real.is_relative_to(_real(e)) for e in self.allowed.get((section, option), [])):
            return None
        secret = [self.data_dir / "database", self.data_dir / "backup"]
        if (real.is_relative_to(self.data_dir) and real != self.data_dir
                and not any(real.is_relative_to(p) for p in secret)):
            return None
        return (f"{value!r} is not inside the data directory (or is among its database "
                "and backups); files elsewhere must be allowed in the host policy file")

    def _file_problem(self, value: str) -> str | None:
        # the config folder: what the API may read anyway (secrets live there, as in
        # Moonraker); never the database or backups, whose secrets it may not
        folder = self.data_dir / "config"
        if _real(value).is_relative_to(folder):
            return None
        return (f"{value!r} is not in the config folder {folder}; files elsewhere must be "
                "allowed in the host policy file")

    def _allowed_by_policy(self, setting: _Setting) -> bool:
        entries = self.allowed.get((setting.section, setting.option.option), [])
        if not entries:
            return False
        kind, value = setting.option.kind, setting.value
        if kind is Kind.SOURCE:
            return any(_same_source(value, e) for e in entries)
        if kind is Kind.DEVICE:
            return value in entries or any(_real(e) == _real(value) for e in entries
                                           if e.startswith("/") and value.startswith("/"))
        if kind is Kind.PROGRAM:
            if value in entries:
                return True
            wanted = _which(value)
            return wanted is not None and any(_which(e) == wanted for e in entries)
        real = _real(value)
        return any(real.is_relative_to(_real(e)) for e in entries)

    def _program_problem(self, option: HostOption, value: str) -> str | None:
        default = option.default or ""
        if value == default:
            return None
        wanted, usual = _which(value), _which(default)
        if wanted is not None and wanted == usual:
            return None
        return (f"{value!r} is not the program '{default}' on the service's PATH; other "
                "programs must be allowed in the host policy file")

    @staticmethod
    def _device_problem(value: str) -> str | None:
        if value == "virtual":
            return None
        if "://" not in value:
            if str(Path(value).parent) in _SERIAL_LINK_DIRS:
                return None  # udev's names for serial devices (the printer may be off)
            # a device or a link to one (udev rules, a virtual printer's pty link)
            real = _real(value)
            name = real.name
            if real.parent == Path("/dev/pts") or (
                real.parent == Path("/dev") and name.startswith(_TTY_PREFIXES)
            ):
                return None
        return (f"{value!r} is not 'virtual' or a serial tty under /dev (or a link to "
                "one); other ports (URLs, other devices) must be allowed in the host "
                "policy file")

    def _folder_problem(self, setting: _Setting, others: Iterable[_Setting]) -> str | None:
        real = _real(setting.value)
        if real == self.data_dir or not real.is_relative_to(self.data_dir):
            return (f"{setting.value!r} is not inside the data directory {self.data_dir}; "
                    "folders elsewhere must be allowed in the host policy file")
        # its own default folder (DATA/database for database_path) is no conflict
        own = self.data_dir / setting.option.default if setting.option.default else None
        busy = [self.data_dir / name for name in RESERVED_FOLDERS]
        busy.append(_real(self.config_path).parent)
        busy += [self.data_dir / o.default for o in HOST_OPTIONS
                 if o.kind is Kind.FOLDER and o.default]
        group = setting.option.group
        busy += [_real(s.value) for s in others
                 if s.option.kind is Kind.FOLDER and s is not setting
                 and (s.section, s.option.option) != (setting.section, setting.option.option)
                 and (group is None or s.option.group != group)]
        for place in busy:
            if place != own and _overlap(real, place):
                return (f"{setting.value!r} overlaps {place}, which has another job; "
                        "choose a folder of its own in the data directory")
        return None

    # -- start-up: screen the config ------------------------------------------------------

    def screen(self, config: Config) -> list[str]:
        """Drop every host option of `config` that fails; one warning each."""
        warnings: list[str] = []
        settings = host_settings(config)
        for setting in settings:
            if not config.has_section(setting.section):
                continue  # left out already (another required option was refused)
            problem = self.problem(setting, settings)
            if problem is None:
                continue
            if setting.option.required:
                config.drop_section(setting.section)
                outcome = f"section [{setting.section}] left out"
            else:
                config.drop_option(setting.section, setting.option.option)
                outcome = "using the default"
            warnings.append(f"{setting.name} refused: {problem} (host policy: "
                            f"{self.describe()}); {outcome}")
        return warnings

    # -- a config written through the API -------------------------------------------------

    def is_config_file(self, path: Path) -> bool:
        return (Path(os.path.abspath(path)) == self.config_path
                or _real(path) == _real(self.config_path))

    def check_config_write(self, path: Path, content: bytes) -> None:
        """Raise (403, or 400 for a file that does not parse) when writing `content` to
        `path` would change a host option of the config file to a refused value."""
        if not self.is_config_file(path):
            return
        try:
            new = Config.from_string(content.decode("utf-8"))
        except (UnicodeDecodeError, ConfigError) as exc:
            raise BadRequest(f"Config not saved: it does not parse ({exc})") from None
        try:
            old_text = self.config_path.read_text(encoding="utf-8")
            old = Config.from_string(old_text)
        except (OSError, UnicodeDecodeError, ConfigError):
            old = None
        before = {(s.section, s.option.option): s.value
                  for s in (host_settings(old) if old is not None else [])}
        settings = host_settings(new)
        refused = []
        for setting in settings:
            if before.get((setting.section, setting.option.option)) == setting.value:
                continue  # unchanged: start-up judges it as before
            problem = self.problem(setting, settings)
            if problem is not None:
                refused.append(f"{setting.name}: {problem}")
        if refused:
            raise Forbidden(
                "Config not saved: it changes options that name host paths or programs, "
                "which the API may set only inside the data directory or as the host "
                f"policy file allows ({self.describe()}): " + "; ".join(refused))


#!/usr/bin/env bash
# Install (or upgrade, or uninstall) Skysail from the checkout this script lives in.
#
#   sudo scripts/install.sh                 # /opt/skysail, ~USER/printer_data, skysail.service
#   scripts/install.sh --help               # every option
#
# Safe to run again: an existing virtual environment is reused, the package is
# reinstalled from the checkout, an existing moonraker.conf is kept (only the options
# given on the command line are changed), and the service is restarted.
#
# Environment, for tests and unusual systems:
#   PYTHON                       interpreter to build the venv with (same as --python)
#   SKYSAIL_SYSTEMD_RUNTIME_DIR  systemd is used when this exists (/run/systemd/system)
#   SKYSAIL_UNIT_DIR             where system units go (/etc/systemd/system)
#   SKYSAIL_DT_MODEL             device-tree model file (/proc/device-tree/model)
#   SKYSAIL_WEB                  default for --web (mainsail)
#   SKYSAIL_WEB_RELEASES_URL     the web client's release list (GitHub's API shape);
#                                also listed in the host policy file (a source of code)
set -euo pipefail
umask 022

PROG=install.sh
SRC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SYSTEMD_RUNTIME_DIR="${SKYSAIL_SYSTEMD_RUNTIME_DIR:-/run/systemd/system}"
SYSTEM_UNIT_DIR="${SKYSAIL_UNIT_DIR:-/etc/systemd/system}"
DT_MODEL="${SKYSAIL_DT_MODEL:-/proc/device-tree/model}"
MIN_PYTHON_MAJOR=3
MIN_PYTHON_MINOR=11
DEFAULT_PORT=7125
MANIFEST_NAME=skysail-install.env
POLICY_NAME="host-policy.conf"
FILE_LIMIT=4096

die() {
  printf '%s: error: %s\n' "$PROG" "$*" >&2
  exit 1
}
usage_error() {
  printf '%s: %s (see --help)\n' "$PROG" "$*" >&2
  exit 2
}
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
say() { printf '==> %s\n' "$*"; }

usage() {
  cat <<'EOF'
Usage: scripts/install.sh [OPTIONS]
       scripts/install.sh --uninstall [--purge] [OPTIONS]

Installs Skysail from this checkout into a virtual environment, creates the data
directory and its moonraker.conf, and (with systemd) a service started at boot.
Run it again to upgrade after `git pull`.

Options:
  --prefix DIR      where the virtual environment and launcher go
                    (default /opt/skysail as root, ~/.local/share/skysail otherwise;
                    with --instance NAME: .../skysail-NAME)
  --data-dir DIR    data directory: config/, gcodes/, logs/, database/
                    (default ~USER/printer_data; with --instance NAME: ~USER/NAME_data)
  --instance NAME   one of several printers on this host: service skysail-NAME,
                    launcher skysail-NAME, its own prefix and data directory
  --port N          HTTP port written to [server] port (default 7125)
  --host ADDR       address written to [server] host (the example's 127.0.0.1 unless
                    given; 0.0.0.0 listens on every interface)
  --serial PORT     printer serial port written to [serial] port, e.g.
                    /dev/serial/by-id/usb-... (default: the virtual printer)
  --user USER       user the service runs as (default: the user who ran sudo, else
                    the current user)
  --python PATH     Python >= 3.11 to build the virtual environment with (also $PYTHON)
  --bin-dir DIR     also link the launcher here (default /usr/local/bin as root;
                    pass an empty string to skip)
  --no-service      don't write or enable a systemd unit
  --web CLIENT      the web interface served at /: mainsail (default), fluidd or none;
                    installed into DATA_DIR/CLIENT and kept up to date by the update
                    manager (offline: Skysail is installed without it)
  --uninstall       remove the virtual environment, launcher and service; keeps the
                    data directory
  --purge           with --uninstall: delete the data directory too
  -h, --help        show this help
EOF
}

# --- options -----------------------------------------------------------------------

is_root=false
[[ ${EUID:-$(id -u)} -eq 0 ]] && is_root=true

opt_prefix="" opt_data_dir="" opt_instance="" opt_port="" opt_host="" opt_serial=""
opt_user="" opt_python="${PYTHON:-}" opt_bin_dir_set=false opt_bin_dir=""
opt_service=true opt_uninstall=false opt_purge=false
opt_web="${SKYSAIL_WEB:-mainsail}"

need_value() {
  # $1 option, $2 number of arguments left (including the option)
  [[ $2 -ge 2 ]] || usage_error "option $1 needs a value"
}

while [[ $# -gt 0 ]]; do
  arg="$1"
  value=""
  if [[ $arg == --*=* ]]; then
    value="${arg#*=}"
    arg="${arg%%=*}"
    set -- "$arg" "$value" "${@:2}"
  fi
  case "$arg" in
    --prefix) need_value "$arg" $#; opt_prefix="$2"; shift 2 ;;
    --data-dir) need_value "$arg" $#; opt_data_dir="$2"; shift 2 ;;
    --instance) need_value "$arg" $#; opt_instance="$2"; shift 2 ;;
    --port) need_value "$arg" $#; opt_port="$2"; shift 2 ;;
    --host) need_value "$arg" $#; opt_host="$2"; shift 2 ;;
    --serial) need_value "$arg" $#; opt_serial="$2"; shift 2 ;;
    --user) need_value "$arg" $#; opt_user="$2"; shift 2 ;;
    --python) need_value "$arg" $#; opt_python="$2"; shift 2 ;;
    --bin-dir) need_value "$arg" $#; opt_bin_dir="$2"; opt_bin_dir_set=true; shift 2 ;;
    --no-service) opt_service=false; shift ;;
    --web) need_value "$arg" $#; opt_web="$2"; shift 2 ;;
    --uninstall) opt_uninstall=true; shift ;;
    --purge) opt_purge=true; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage_error "unknown option: $1" ;;
  esac
done

if [[ -n $opt_instance && ! $opt_instance =~ ^[A-Za-z0-9][A-Za-z0-9_-]*$ ]]; then
  usage_error "--instance '$opt_instance': use letters, digits, '-' and '_'"
fi
if [[ -n $opt_port ]] && ! { [[ $opt_port =~ ^[0-9]+$ ]] && ((opt_port >= 1 && opt_port <= 65535)); }; then
  usage_error "--port '$opt_port': expected a number from 1 to 65535"
fi
$opt_purge && ! $opt_uninstall && usage_error "--purge only goes with --uninstall"
case "$opt_web" in
  mainsail | fluidd | none) ;;
  *) usage_error "--web '$opt_web': expected mainsail, fluidd or none" ;;
esac
for v in "$opt_prefix" "$opt_data_dir" "$opt_host" "$opt_serial" "$opt_bin_dir"; do
  if [[ $v == *$'\n'* ]]; then
    usage_error "option values can't contain a newline"
  fi
done

# --- who and where -----------------------------------------------------------------

current_user="$(id -un)"
if [[ -n $opt_user ]]; then
  service_user="$opt_user"
elif $is_root && [[ -n ${SUDO_USER:-} && ${SUDO_USER} != root ]]; then
  service_user="$SUDO_USER"
else
  service_user="$current_user"
fi
getent passwd "$service_user" >/dev/null || die "no such user: $service_user (--user)"
if ! $is_root && [[ $service_user != "$current_user" ]]; then
  die "--user $service_user needs root (run with sudo)"
fi
service_group="$(id -gn "$service_user")"
service_home="$(getent passwd "$service_user" | cut -d: -f6)"

suffix=""
[[ -n $opt_instance ]] && suffix="-$opt_instance"
service_name="skysail${suffix}"
launcher_name="skysail${suffix}"

if [[ -n $opt_prefix ]]; then
  prefix="$opt_prefix"
elif $is_root; then
  prefix="/opt/skysail${suffix}"
else
  prefix="${XDG_DATA_HOME:-$HOME/.local/share}/skysail${suffix}"
fi
prefix="$(realpath -m -- "$prefix")"
[[ $prefix == / ]] && usage_error "--prefix / is not allowed"

if [[ -n $opt_data_dir ]]; then
  data_dir="$opt_data_dir"
elif [[ -n $opt_instance ]]; then
  data_dir="$service_home/${opt_instance}_data"
else
  data_dir="$service_home/printer_data"
fi
data_dir="$(realpath -m -- "$data_dir")"

if $opt_bin_dir_set; then
  bin_dir="$opt_bin_dir"
elif $is_root; then
  bin_dir=/usr/local/bin
else
  bin_dir=""
fi
[[ -n $bin_dir ]] && bin_dir="$(realpath -m -- "$bin_dir")"

# PREFIX/venv links to one of PREFIX/venvs/*: the update manager installs a new version
# beside the running one and switches the link (docs/updates.md)
venv="$prefix/venv"
venvs_dir="$prefix/venvs"
launcher="$prefix/bin/skysail"
manifest="$prefix/$MANIFEST_NAME"
config_file="$data_dir/config/moonraker.conf"
# outside the data directory, so the API cannot change it (docs/THREAT_MODEL.md)
policy_file="$prefix/$POLICY_NAME"

have_systemd=false
if [[ -d $SYSTEMD_RUNTIME_DIR ]] && command -v systemctl >/dev/null 2>&1; then
  have_systemd=true
fi
if $is_root; then
  unit_file="$SYSTEM_UNIT_DIR/$service_name.service"
  systemctl_cmd=(systemctl)
else
  unit_file="${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user/$service_name.service"
  systemctl_cmd=(systemctl --user)
fi

# --- helpers -----------------------------------------------------------------------

# The nearest existing directory at or above $1.
existing_ancestor() {
  local dir="$1"
  while [[ ! -e $dir ]]; do
    dir="$(dirname -- "$dir")"
  done
  printf '%s\n' "$dir"
}

check_writable() {
  # $1 path to create or change, $2 what it is (for the message), $3 the option naming it
  local base
  base="$(existing_ancestor "$1")"
  if [[ ! -d $base ]]; then
    die "$2 $1: $base is not a directory"
  fi
  if [[ ! -w $base ]]; then
    if [[ $base == "$1" ]]; then
      die "no permission to write $2 $1 (run with sudo, or choose another $3)"
    fi
    die "no permission to create $2 $1 in $base (run with sudo, or choose another $3)"
  fi
}

# Value of "key: value" (or "key = value") in [section] of an INI file; empty if absent.
get_option() {
  local file="$1" section="$2" key="$3"
  [[ -f $file ]] || return 0
  SECTION="$section" KEY="$key" awk '
    /^[[:space:]]*\[/ {
      name = $0
      sub(/^[[:space:]]*\[/, "", name); sub(/\].*$/, "", name)
      insec = (name == ENVIRON["SECTION"]); next
    }
    insec {
      line = $0
      if (match(line, "^" ENVIRON["KEY"] "[[:space:]]*[:=]")) {
        line = substr(line, RLENGTH + 1)
        sub(/^[[:space:]]+/, "", line); sub(/[[:space:]]+$/, "", line)
        print line; exit
      }
    }' "$file"
}

# Set "key: value" in [section] of an INI file, adding the option or section if missing.
set_option() {
  local file="$1" section="$2" key="$3" value="$4" tmp
  tmp="$(mktemp "$file.XXXXXX")"
  SECTION="$section" KEY="$key" VALUE="$value" awk '
    function put() { print ENVIRON["KEY"] ": " ENVIRON["VALUE"]; done = 1 }
    /^[[:space:]]*\[/ {
      if (insec && !done) put()
      name = $0
      sub(/^[[:space:]]*\[/, "", name); sub(/\].*$/, "", name)
      insec = (name == ENVIRON["SECTION"])
      print; next
    }
    insec && !done && match($0, "^" ENVIRON["KEY"] "[[:space:]]*[:=]") { put(); next }
    { print }
    END {
      if (insec && !done) put()
      if (!done) { print ""; print "[" ENVIRON["SECTION"] "]"; put() }
    }' "$file" >"$tmp"
  cat "$tmp" >"$file"
  rm -f "$tmp"
}

# Allow VALUE for "[SECTION] KEY" in the host policy file (one value a line below the
# key); nothing changes when it is listed already.
policy_allow() {
  local file="$1" section="$2" key="$3" value="$4" tmp
  tmp="$(mktemp "$file.XXXXXX")"
  SECTION="$section" KEY="$key" VALUE="$value" awk '
    function flush() {
      if (inkey && !found) print "  " ENVIRON["VALUE"]
      if (inkey) done = 1
      inkey = 0
    }
    /^[[:space:]]*\[/ {
      flush()
      if (insec && !done) { print ENVIRON["KEY"] ":"; print "  " ENVIRON["VALUE"]; done = 1 }
      name = $0
      sub(/^[[:space:]]*\[/, "", name); sub(/\].*$/, "", name)
      insec = (name == ENVIRON["SECTION"])
      print; next
    }
    inkey && /^[[:space:]]+[^[:space:]]/ {
      line = $0; sub(/^[[:space:]]+/, "", line); sub(/[[:space:]]+$/, "", line)
      if (line == ENVIRON["VALUE"]) found = 1
      print; next
    }
    inkey { flush() }
    insec && !done && match($0, "^" ENVIRON["KEY"] "[[:space:]]*[:=]") {
      inkey = 1
      line = substr($0, RLENGTH + 1); sub(/^[[:space:]]+/, "", line); sub(/[[:space:]]+$/, "", line)
      if (line == ENVIRON["VALUE"]) found = 1
      print; next
    }
    { print }
    END {
      flush()
      if (insec && !done) { print ENVIRON["KEY"] ":"; print "  " ENVIRON["VALUE"]; done = 1 }
      if (!done) { print ""; print "[" ENVIRON["SECTION"] "]"; print ENVIRON["KEY"] ":"; print "  " ENVIRON["VALUE"] }
    }' "$file" >"$tmp"
  cat "$tmp" >"$file"
  rm -f "$tmp"
}

# Read KEY=VALUE lines of the install manifest (never sourced).
manifest_get() {
  local key="$1"
  [[ -f $manifest ]] || return 0
  awk -v k="$key" 'index($0, k "=") == 1 { print substr($0, length(k) + 2); exit }' "$manifest"
}

python_version() {
  # prints "major.minor.micro" of interpreter $1, or nothing if it can't run
  "$1" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null | head -n 1 || true
}

version_ok() {
  local major minor
  [[ $1 =~ ^([0-9]+)\.([0-9]+) ]] || return 1
  major="${BASH_REMATCH[1]}" minor="${BASH_REMATCH[2]}"
  ((major > MIN_PYTHON_MAJOR || (major == MIN_PYTHON_MAJOR && minor >= MIN_PYTHON_MINOR)))
}

find_python() {
  local candidate path version
  if [[ -n $opt_python ]]; then
    path="$(command -v -- "$opt_python" || true)"
    [[ -n $path ]] || die "Python interpreter not found: $opt_python"
    version="$(python_version "$path")"
    [[ -n $version ]] || die "cannot run $path as Python"
    version_ok "$version" ||
      die "$path is Python $version; Skysail needs Python >= $MIN_PYTHON_MAJOR.$MIN_PYTHON_MINOR"
    printf '%s\n' "$path"
    return
  fi
  local found=""
  for candidate in python3.13 python3.12 python3.11 python3; do
    path="$(command -v "$candidate" || true)"
    [[ -n $path ]] || continue
    version="$(python_version "$path")"
    if version_ok "$version"; then
      printf '%s\n' "$path"
      return
    fi
    [[ -n $version && -z $found ]] && found="$path is Python $version"
  done
  if [[ -n $found ]]; then
    die "Skysail needs Python >= $MIN_PYTHON_MAJOR.$MIN_PYTHON_MINOR; $found (Debian 12 and Raspberry Pi OS 12 ship 3.11; or pass --python)"
  fi
  die "Python >= $MIN_PYTHON_MAJOR.$MIN_PYTHON_MINOR not found (sudo apt-get install python3 python3-venv, or pass --python)"
}

# Exit status 0 if host:port can be bound now.
port_free() {
  "$1" - "$2" "$3" <<'PY'
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
try:
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
except socket.gaierror as exc:
    sys.exit(f"cannot resolve {host!r}: {exc}")
family, kind, proto, _, addr = infos[0]
sock = socket.socket(family, kind, proto)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    sock.bind(addr)
    sock.listen(1)
except OSError:
    sys.exit(1)
finally:
    sock.close()
PY
}

service_active() {
  $have_systemd && "${systemctl_cmd[@]}" is-active --quiet "$service_name.service" 2>/dev/null
}

# single-quote $1 for /bin/sh
sh_quote() {
  local s="${1//\'/\'\\\'\'}"
  printf "'%s'" "$s"
}

# Whether unit file $1 runs this prefix's venv (so it is ours to replace or remove).
unit_is_ours() {
  grep -qF "ExecStart=$venv/bin/skysail -d " "$1" 2>/dev/null
}

is_raspberry_pi() {
  [[ -r $DT_MODEL ]] && tr -d '\0' <"$DT_MODEL" | grep -q 'Raspberry Pi'
}

# --- uninstall ---------------------------------------------------------------------

do_uninstall() {
  check_writable "$prefix" "prefix" "--prefix"
  local m_unit m_link m_data m_user_unit
  m_unit="$(manifest_get UNIT_FILE)"
  m_link="$(manifest_get BIN_LINK)"
  m_data="$(manifest_get DATA_DIR)"
  m_user_unit="$(manifest_get USER_UNIT)"
  [[ -n $m_unit ]] && unit_file="$m_unit"
  [[ $m_user_unit == yes ]] && systemctl_cmd=(systemctl --user)
  [[ -z $opt_data_dir && -n $m_data ]] && data_dir="$m_data"
  # check before removing anything
  if $opt_purge && [[ -d $data_dir ]]; then
    case "$data_dir" in
      / | "$service_home" | "$HOME") die "refusing to delete $data_dir" ;;
    esac
    if [[ ! -d $data_dir/config && ! -d $data_dir/logs && ! -d $data_dir/database ]]; then
      die "refusing to delete $data_dir: it doesn't look like a Skysail data directory"
    fi
  fi

  # only what an installation made is removed (a --prefix may hold other things)
  local installed=false
  [[ -f $manifest || -e $venv/bin/skysail ]] && installed=true
  if ! $installed && ! unit_is_ours "$unit_file"; then
    say "Nothing installed at $prefix"
    $opt_purge || return 0
  fi

  if [[ -f $unit_file ]] && ! unit_is_ours "$unit_file"; then
    say "Leaving $unit_file: it belongs to another installation"
  elif [[ -f $unit_file ]]; then
    if $have_systemd; then
      "${systemctl_cmd[@]}" disable --now "$service_name.service" >/dev/null 2>&1 ||
        warn "could not stop $service_name.service"
    fi
    rm -f -- "$unit_file"
    $have_systemd && { "${systemctl_cmd[@]}" daemon-reload || true; }
    say "Removed $unit_file"
  fi

  local link
  for link in "$m_link" ${bin_dir:+"$bin_dir/$launcher_name"}; do
    [[ -n $link && -L $link ]] || continue
    if [[ "$(readlink -- "$link")" == "$launcher" ]]; then
      rm -f -- "$link"
      say "Removed $link"
    fi
  done

  if $installed; then
    rm -rf -- "$venv" "$venvs_dir"
    rm -f -- "$launcher" "$manifest" "$policy_file"
  fi
  rmdir -- "$prefix/bin" 2>/dev/null || true
  if [[ -d $prefix ]]; then
    if rmdir -- "$prefix" 2>/dev/null; then
      say "Removed $prefix"
    else
      warn "kept $prefix: it holds files the installer didn't make"
    fi
  fi

  if $opt_purge; then
    if [[ -d $data_dir ]]; then
      rm -rf -- "$data_dir"
      say "Deleted data directory $data_dir"
    fi
  else
    say "Kept data directory $data_dir (--uninstall --purge deletes it)"
  fi
  say "Skysail ${opt_instance:+($opt_instance) }uninstalled"
}

if $opt_uninstall; then
  do_uninstall
  exit 0
fi

# --- install: checks first, so a failure leaves nothing behind ---------------------

[[ -f $SRC_DIR/pyproject.toml && -d $SRC_DIR/gateway ]] ||
  die "$SRC_DIR is not a Skysail checkout (scripts/install.sh must stay inside it)"
check_writable "$prefix" "prefix" "--prefix"
check_writable "$data_dir" "data directory" "--data-dir"
if [[ -n $bin_dir ]]; then
  check_writable "$bin_dir" "launcher directory" "--bin-dir"
fi
want_service=false
if $opt_service && $have_systemd; then
  want_service=true
  check_writable "$(dirname -- "$unit_file")" "systemd unit directory" "--no-service"
  if [[ -f $unit_file ]] && ! unit_is_ours "$unit_file"; then
    die "$unit_file already runs another installation ($(grep -m1 '^ExecStart=' "$unit_file")); use --instance NAME for a second printer"
  fi
  for p in "$prefix" "$data_dir"; do
    [[ $p =~ ^[A-Za-z0-9_./@+-]+$ ]] ||
      die "path $p has characters a systemd unit can't hold; choose a plainer path"
  done
fi

python="$(find_python)"
python_ver="$(python_version "$python")"

# The port: --port, else the existing config's, else the default.
existing_port="$(get_option "$config_file" server port)"
existing_host="$(get_option "$config_file" server host)"
port="${opt_port:-${existing_port:-$DEFAULT_PORT}}"
host="${opt_host:-${existing_host:-127.0.0.1}}"
[[ $port =~ ^[0-9]+$ ]] || die "[server] port in $config_file is '$port', not a number"
if service_active && [[ $port == "$existing_port" ]]; then
  : # our own service holds the port; it is restarted below
elif ! port_free "$python" "$host" "$port"; then
  die "port $port is already in use on $host (another Skysail, Moonraker or program; choose another with --port)"
fi

# --- virtual environment and package -----------------------------------------------

say "Python $python_ver at $python"
mkdir -p -- "$prefix"
venv_ver=""
[[ -L $venv && -x $venv/bin/python ]] && venv_ver="$(python_version "$venv/bin/python")"
if [[ -n $venv_ver && ${venv_ver%.*} == "${python_ver%.*}" ]]; then
  say "Reusing virtual environment $(readlink -f -- "$venv")"
else
  "$python" -c 'import ensurepip, venv' 2>/dev/null ||
    die "$python can't create virtual environments (sudo apt-get install python3-venv)"
  new_venv="$venvs_dir/install-$(date +%Y%m%d%H%M%S)"
  say "Creating virtual environment $new_venv"
  mkdir -p -- "$venvs_dir"
  "$python" -m venv -- "$new_venv"
  # a plain venv from an older install (or another Python) is replaced by the link
  old_target=""
  [[ -L $venv ]] && old_target="$(readlink -f -- "$venv")"
  [[ -e $venv && ! -L $venv ]] && rm -rf -- "$venv"
  ln -sfn -- "venvs/${new_venv##*/}" "$venv.new"
  mv -fT -- "$venv.new" "$venv"
  [[ -n $old_target && $old_target == "$venvs_dir"/* ]] && rm -rf -- "$old_target"
fi

# Build from a copy of the checkout: pip builds in place, and a root install would
# otherwise leave root-owned build/ and *.egg-info folders in the user's checkout.
stage="$(mktemp -d "${TMPDIR:-/tmp}/skysail-src.XXXXXX")"
trap 'rm -rf -- "$stage"' EXIT
tar -C "$SRC_DIR" \
  --exclude=./.git --exclude=./.venv --exclude=./build --exclude=./dist \
  --exclude='*.egg-info' --exclude=__pycache__ --exclude=.mypy_cache \
  --exclude=.pytest_cache --exclude=.ruff_cache --exclude=.hypothesis \
  --exclude=node_modules -cf - . | tar -C "$stage" -xf -

export PIP_DISABLE_PIP_VERSION_CHECK=1
pip_install=("$venv/bin/python" -m pip install --quiet --upgrade)
if is_raspberry_pi; then
  say "Raspberry Pi detected: installing with the ws281x extra (LED strips)"
  if ! "${pip_install[@]}" "${stage}[ws281x]"; then
    warn "the ws281x extra failed to install; installing without LED strip support"
    "${pip_install[@]}" "$stage"
  fi
else
  say "Installing Skysail into $venv"
  "${pip_install[@]}" "$stage"
fi
"$venv/bin/skysail" --version >/dev/null || die "the installed skysail does not run"
# what this environment was built from (the update manager compares it with the checkout)
src_commit="$(git -C "$SRC_DIR" rev-parse HEAD 2>/dev/null || true)"
printf '{"commit": "%s", "built": "%s"}\n' "$src_commit" "$(date -u +%Y-%m-%dT%H:%M:%S+00:00)" \
  >"$venv/skysail-release.json"

# --- data directory and config -----------------------------------------------------

mkdir -p -- "$data_dir"/{config,gcodes,logs,database}
if [[ ! -f $config_file ]]; then
  {
    printf '# Written by scripts/install.sh from moonraker.conf.example; edit freely.\n'
    cat "$SRC_DIR/moonraker.conf.example"
  } >"$config_file"
  set_option "$config_file" server port "$port"
  [[ -n $opt_host ]] && set_option "$config_file" server host "$opt_host"
  [[ -n $opt_serial ]] && set_option "$config_file" serial port "$opt_serial"
  say "Created $config_file"
else
  say "Keeping $config_file"
  if [[ -n $opt_port && $opt_port != "$existing_port" ]]; then
    set_option "$config_file" server port "$opt_port"
    say "  set [server] port: $opt_port"
  fi
  if [[ -n $opt_host && $opt_host != "$existing_host" ]]; then
    set_option "$config_file" server host "$opt_host"
    say "  set [server] host: $opt_host"
  fi
  if [[ -n $opt_serial && $opt_serial != "$(get_option "$config_file" serial port)" ]]; then
    set_option "$config_file" serial port "$opt_serial"
    say "  set [serial] port: $opt_serial"
  fi
fi
if [[ -n $opt_serial && $opt_serial != virtual && ! -e $opt_serial ]]; then
  warn "serial port $opt_serial doesn't exist now (printer off or unplugged?); skysail --list-ports shows what is there"
fi

# --- host policy: what the config may name outside the data directory ---------------

if [[ ! -f $policy_file ]]; then
  cat >"$policy_file" <<'EOF'
# Skysail host policy: host paths and programs moonraker.conf may name beyond the data
# directory. Written by scripts/install.sh (kept when it runs again); edit it as the
# user who owns it (root after a sudo install). Skysail reads it at start through
# --host-policy; the API cannot change it. One allowed value a line below each option;
# a folder allows itself and everything below it. See docs/THREAT_MODEL.md.
#
# [timelapse]
# output_path:
#   /mnt/usb/timelapse
# ffmpeg_path:
#   /usr/local/bin/ffmpeg
# [web]
# path:
#   /opt/skysail/mainsail
# [update_manager mainsail]
# releases_url:
#   https://mirror.example/mainsail/releases.json
EOF
  chmod 644 -- "$policy_file"
  say "Created $policy_file"
fi
if [[ -n $opt_serial && $opt_serial != virtual ]]; then
  policy_allow "$policy_file" serial port "$opt_serial"
fi
if $is_root && [[ $service_user != root ]]; then
  chown -- "$service_user:$service_group" "$data_dir"
  chown -R -- "$service_user:$service_group" "$data_dir"/{config,gcodes,logs,database}
fi

# --- web client (--web): the same code the update manager upgrades it with ----------

web_dir=""
web_state="none (--web none)"
if [[ $opt_web != none ]]; then
  web_dir="$data_dir/$opt_web"
  case "$opt_web" in
    mainsail) web_repo=mainsail-crew/mainsail ;;
    fluidd) web_repo=fluidd-core/fluidd ;;
  esac
  web_args=(--name "$opt_web" --repo "$web_repo" --path "$web_dir")
  [[ -n ${SKYSAIL_WEB_RELEASES_URL:-} ]] && web_args+=(--releases-url "$SKYSAIL_WEB_RELEASES_URL")
  web_log="$(mktemp "${TMPDIR:-/tmp}/skysail-web.XXXXXX")"
  if (cd / && "$venv/bin/python" -m components.update_manager.webinstall "${web_args[@]}") \
    >"$web_log" 2>&1; then
    if $is_root && [[ $service_user != root ]]; then
      chown -R -- "$service_user:$service_group" "$web_dir"
    fi
    set_option "$config_file" web path "$web_dir"
    if ! grep -q '^\[update_manager\]' "$config_file"; then
      printf '\n[update_manager]\n' >>"$config_file"
    fi
    set_option "$config_file" "update_manager $opt_web" type web
    set_option "$config_file" "update_manager $opt_web" repo "$web_repo"
    set_option "$config_file" "update_manager $opt_web" path "$web_dir"
    set_option "$config_file" "update_manager $opt_web" channel stable
    set_option "$config_file" "update_manager $opt_web" persistent_files config.json
    if [[ -n ${SKYSAIL_WEB_RELEASES_URL:-} ]]; then
      # another release list than GitHub's is a source of code: the policy names it
      policy_allow "$policy_file" "update_manager $opt_web" releases_url "$SKYSAIL_WEB_RELEASES_URL"
      set_option "$config_file" "update_manager $opt_web" releases_url "$SKYSAIL_WEB_RELEASES_URL"
    fi
    say "Installed $opt_web in $web_dir (served at /)"
    web_state="$opt_web in $web_dir"
  else
    reason="$(grep -m1 '^error: ' "$web_log" | cut -c8- || true)"
    [[ -n $reason ]] || reason="$(tail -n 1 "$web_log")"
    warn "could not install $opt_web (${reason}); continuing without a web interface"
    web_dir=""
    web_state="none ($opt_web could not be installed)"
  fi
  rm -f -- "$web_log"
fi

# --- serial port access ------------------------------------------------------------

if [[ $service_user != root ]] && getent group dialout >/dev/null; then
  if id -nG "$service_user" | tr ' ' '\n' | grep -qx dialout; then
    :
  elif $is_root; then
    usermod -aG dialout "$service_user"
    say "Added $service_user to the dialout group (serial ports)"
  else
    warn "$service_user is not in the dialout group, so it can't open serial ports: sudo usermod -aG dialout $service_user (then log in again)"
  fi
fi

# --- launchers ---------------------------------------------------------------------

mkdir -p -- "$prefix/bin"
{
  printf '#!/bin/sh\n'
  printf '# Written by scripts/install.sh: Skysail%s on its data directory.\n' \
    "${opt_instance:+ ($opt_instance)}"
  printf '# Options given here come after -d and win (e.g. skysail --list-ports).\n'
  printf 'exec %s -d %s --host-policy %s "$@"\n' "$(sh_quote "$venv/bin/skysail")" \
    "$(sh_quote "$data_dir")" "$(sh_quote "$policy_file")"
} >"$launcher.tmp"
chmod 755 -- "$launcher.tmp"
mv -f -- "$launcher.tmp" "$launcher"

bin_link=""
if [[ -n $bin_dir ]]; then
  target="$bin_dir/$launcher_name"
  if [[ -e $target && ! -L $target ]]; then
    warn "$target exists and isn't our link; leaving it (run $launcher instead)"
  else
    mkdir -p -- "$bin_dir"
    ln -sfn -- "$launcher" "$target"
    bin_link="$target"
  fi
fi

# --- service -----------------------------------------------------------------------

write_unit() {
  local supplementary=""
  if [[ $service_user != root ]] && getent group dialout >/dev/null; then
    supplementary="SupplementaryGroups=dialout"
  fi
  mkdir -p -- "$(dirname -- "$unit_file")"
  {
    printf '# Written by %s/scripts/install.sh; rerun it rather than editing this file.\n' "$SRC_DIR"
    printf '[Unit]\n'
    printf 'Description=Skysail, a Moonraker-compatible API server%s\n' "${opt_instance:+ ($opt_instance)}"
    printf 'After=network-online.target\nWants=network-online.target\n\n'
    printf '[Service]\nType=simple\n'
    if $is_root; then
      printf 'User=%s\nGroup=%s\n' "$service_user" "$service_group"
      [[ -n $supplementary ]] && printf '%s\n' "$supplementary"
    fi
    printf 'WorkingDirectory=%s\n' "$data_dir"
    printf 'Environment=PYTHONUNBUFFERED=1\n'
    printf 'ExecStart=%s -d %s --host-policy %s\n' "$venv/bin/skysail" "$data_dir" "$policy_file"
    # room for [server] max_connections and the files, ports and database beside them
    printf 'LimitNOFILE=%s\n' "$FILE_LIMIT"
    printf 'Restart=always\nRestartSec=10\nTimeoutStopSec=30\n\n'
    printf '[Install]\n'
    if $is_root; then
      printf 'WantedBy=multi-user.target\n'
    else
      printf 'WantedBy=default.target\n'
    fi
  } >"$unit_file"
}

wait_until_up() {
  local url_host="$host" i
  case "$url_host" in 0.0.0.0 | "") url_host=127.0.0.1 ;; :: | "[::]") url_host="[::1]" ;; esac
  [[ $url_host == *:* && $url_host != \[* ]] && url_host="[$url_host]"
  for ((i = 0; i < 40; i++)); do
    if "$venv/bin/python" - "http://$url_host:$port/server/info" <<'PY' 2>/dev/null; then
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=1).read()
PY
      return 0
    fi
    case "$("${systemctl_cmd[@]}" is-active "$service_name.service" 2>/dev/null || true)" in
      active | activating | reloading) sleep 0.5 ;;
      *) return 1 ;;
    esac
  done
  return 1
}

service_state="not installed (--no-service)"
if $want_service; then
  write_unit
  say "Wrote $unit_file"
  if "${systemctl_cmd[@]}" daemon-reload &&
    "${systemctl_cmd[@]}" enable "$service_name.service" >/dev/null 2>&1 &&
    "${systemctl_cmd[@]}" restart "$service_name.service"; then
    if wait_until_up; then
      service_state="running ($service_name.service, starts at boot)"
    else
      service_state="enabled but not answering yet (${systemctl_cmd[*]} status $service_name)"
      warn "$service_name.service isn't answering on port $port yet; see: ${systemctl_cmd[*]} status $service_name"
    fi
  else
    service_state="unit written but not started"
    warn "could not enable/start $service_name.service; see: ${systemctl_cmd[*]} status $service_name"
  fi
  if ! $is_root; then
    warn "a user service stops when you log out unless lingering is on: sudo loginctl enable-linger $service_user"
  fi
elif $opt_service; then
  service_state="not installed (no systemd here); start it with: $launcher"
fi

{
  printf 'INSTANCE=%s\n' "$opt_instance"
  printf 'SERVICE=%s\n' "$service_name"
  printf 'UNIT_FILE=%s\n' "$($want_service && printf '%s' "$unit_file")"
  printf 'USER_UNIT=%s\n' "$($is_root && printf no || printf yes)"
  printf 'BIN_LINK=%s\n' "$bin_link"
  printf 'DATA_DIR=%s\n' "$data_dir"
  printf 'SERVICE_USER=%s\n' "$service_user"
  printf 'SOURCE=%s\n' "$SRC_DIR"
} >"$manifest"

uninstall_cmd="$0 --uninstall${opt_instance:+ --instance $opt_instance}${opt_prefix:+ --prefix $prefix}"
cat <<EOF

Skysail${opt_instance:+ ($opt_instance)} is installed.
  launcher:     $launcher${bin_link:+  (also $bin_link)}
  data:         $data_dir
  config:       $config_file
  logs:         $data_dir/logs/moonraker.log
  address:      http://$host:$port/  (test page: /test/client/)
  web:          $web_state
  service:      $service_state
  serial ports: $launcher --list-ports
Upgrade: git pull, then run this script again.
Remove:  $uninstall_cmd
EOF

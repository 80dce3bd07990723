# Sourced before a build of the workspace. The server binary's default
# feature `turbojpeg` (helpdesk-cli's: JPEG thumbnails decoded by
# libjpeg-turbo 3, scaled at decode; see the README's Performance) builds
# libjpeg-turbo from its bundled source with cmake and nasm. Installs them
# with apt-get where missing (as root on Debian or Ubuntu), or stops with
# one line saying what to do.
if ! command -v cmake >/dev/null || ! command -v nasm >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "cmake or nasm missing: installing them with apt-get (libjpeg-turbo's build)"
    { apt-get update -qq && apt-get install -y -qq cmake nasm >/dev/null; } || true
  fi
  if ! command -v cmake >/dev/null || ! command -v nasm >/dev/null; then
    echo "$0: the server's build needs cmake and nasm (for libjpeg-turbo): install both, or build the server without libjpeg-turbo: cargo build --release -p helpdesk-cli --no-default-features" >&2
    exit 1
  fi
fi

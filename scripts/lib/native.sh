# Sourced before a build of the workspace. The server binary's default
# feature `turbojpeg` (helpdesk-cli's: JPEG thumbnails decoded by
# libjpeg-turbo 3, scaled at decode; see the README's Performance) builds
# libjpeg-turbo from its bundled source with cmake and nasm. Installs them
# with apt-get where missing (as root on Debian or Ubuntu), or stops with
# one line saying what to do.
. "$(dirname "${BASH_SOURCE[0]}")/need.sh"
need_hint="or build the server without libjpeg-turbo: cargo build --release -p helpdesk-cli --no-default-features" \
  need cmake nasm

# need TOOL[:PACKAGE]...: each TOOL on PATH, or its Debian PACKAGE (the
# tool's own name unless given) installed with apt-get where that is
# possible (as root, where apt-get is); else one line saying what to
# install, and exit 1. need_hint, when set, is added to that line (another
# way to go on without the tool).
need() {
  local want tool missing=() packages=()
  for want in "$@"; do
    tool=${want%%:*}
    command -v "$tool" >/dev/null && continue
    missing+=("$tool")
    packages+=("${want#*:}")
  done
  [ ${#missing[@]} = 0 ] && return
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "${missing[*]} missing: installing ${packages[*]} with apt-get" >&2
    { apt-get update -qq && apt-get install -y -qq "${packages[@]}" >/dev/null; } || true
  fi
  for tool in "${missing[@]}"; do
    command -v "$tool" >/dev/null || {
      echo "$0 needs $tool on PATH: install it (apt-get install ${packages[*]}) and run again${need_hint:+, $need_hint}" >&2
      exit 1
    }
  done
}

# Shared by the measuring scripts: a release server over a scratch data dir,
# and one ticket with one image message to fetch. Source it; it sets
# $work (removed on exit), $bin and $data.
set -euo pipefail
cargo build --release --locked -q
bin=$PWD/target/release/helpdesk
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data=$work/data

# run_server LABEL [ARGS...]: starts under /usr/bin/time -v; sets $server_pid and $base.
run_server() {
  local label=$1
  shift
  /usr/bin/time -v -o "$work/$label.time" "$bin" --data-dir "$data" serve --listen 127.0.0.1:0 "$@" \
    >"$work/$label.out" 2>"$work/$label.log" &
  server_pid=$!
  for _ in $(seq 100); do grep -q "listening on" "$work/$label.out" 2>/dev/null && break; sleep 0.1; done
  base=$(sed -n 's/^helpdesk listening on //p' "$work/$label.out")
}

# stop_server: SIGTERM to the server (not to `time`), then wait.
stop_server() {
  kill -TERM "$(pgrep -P "$server_pid" helpdesk)"
  wait "$server_pid" || true
}

# peak_rss LABEL: the server's peak resident set, KiB.
peak_rss() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/$1.time"; }

field() { sed -E "s/.*\"$1\":\"([^\"]+)\".*/\\1/"; }

# provision_image FILE: with a server running, provisions a tenant, app and
# helpdesk, posts FILE as an image message, and sets $token, $cred and
# $image_path (the ticket_images path and query of that image; the port
# changes with every run_server, so join it to $base when calling).
provision_image() {
  local tenant app hd key ticket msg
  tenant=$("$bin" --data-dir "$data" admin tenant create --name bench | field tenant_key)
  app=$("$bin" --data-dir "$data" admin app create --tenant "$tenant" --name bench)
  hd=$("$bin" --data-dir "$data" admin helpdesk create --tenant "$tenant" --name bench)
  cred=$(printf '%s:%s' "$(echo "$hd" | field helpdesk_id)" "$(echo "$hd" | field helpdesk_token)" | base64 -w0)
  token=$(curl -s -X POST "$base/open-apis/auth/v3/tenant_access_token/internal" \
    -d "{\"app_id\":\"$(echo "$app" | field app_id)\",\"app_secret\":\"$(echo "$app" | field app_secret)\"}" |
    field tenant_access_token)
  key=$(curl -s "$base/open-apis/im/v1/images" -H "Authorization: Bearer $token" \
    -F image_type=message -F "image=@$1" | field image_key)
  ticket=$(curl -s "$base/open-apis/helpdesk/v1/start_service" -H "Authorization: Bearer $token" \
    -H "X-Lark-Helpdesk-Authorization: $cred" -d '{"open_id":"ou_bench"}' | field ticket_id)
  msg=$(curl -s "$base/open-apis/helpdesk/v1/tickets/$ticket/messages" -H "Authorization: Bearer $token" \
    -H "X-Lark-Helpdesk-Authorization: $cred" \
    -d "{\"msg_type\":\"image\",\"content\":\"{\\\"image_key\\\":\\\"$key\\\"}\"}" | field message_id)
  image_path="/open-apis/helpdesk/v1/ticket_images?ticket_id=$ticket&msg_id=$msg"
}

# random_png FILE BYTES: the PNG signature, then random bytes (never decoded).
random_png() { { printf '\x89PNG\r\n\x1a\n'; head -c $(($2 - 8)) /dev/urandom; } >"$1"; }

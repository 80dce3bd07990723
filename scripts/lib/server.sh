# Shared by the measuring scripts: a release server over a scratch data dir,
# and one ticket with one image message to fetch. Source it; it sets
# $work (removed on exit), $bin and $data.
set -euo pipefail
. scripts/lib/native.sh
cargo build --release --locked -q
# Where the build went: CARGO_TARGET_DIR if set.
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/helpdesk
work=$(mktemp -d)
# on_exit CMD: run CMD when the script ends, however it ends.
exit_hooks=()
on_exit() { exit_hooks+=("$1"); }
trap 'for h in "${exit_hooks[@]}"; do eval "$h" || true; done; rm -rf "$work"' EXIT
on_exit 'pkill -TERM -P "${server_pid:-0}" helpdesk 2>/dev/null'
data=$work/data

# run_server LABEL [ARGS...]: starts under /usr/bin/time -v; sets $server_pid and $base.
run_server() {
  local label=$1
  shift
  /usr/bin/time -v -o "$work/$label.time" "$bin" serve --data-dir "$data" --listen 127.0.0.1:0 "$@" \
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
# helpdesk, posts FILE as an image message, and sets $token, $cred, $ticket,
# $image_key, $helpdesk_id, $app_id and $image_path (the ticket_images path
# and query of that image; the port changes with every run_server, so join
# it to $base when calling).
provision_image() {
  local tenant app hd msg
  tenant=$("$bin" admin --data-dir "$data" tenant create --name bench | field tenant_key)
  app=$("$bin" admin --data-dir "$data" app create --tenant "$tenant" --name bench)
  hd=$("$bin" admin --data-dir "$data" helpdesk create --tenant "$tenant" --name bench)
  cred=$(printf '%s:%s' "$(echo "$hd" | field helpdesk_id)" "$(echo "$hd" | field helpdesk_token)" | base64 -w0)
  token=$(curl -s -X POST "$base/open-apis/auth/v3/tenant_access_token/internal" \
    -d "{\"app_id\":\"$(echo "$app" | field app_id)\",\"app_secret\":\"$(echo "$app" | field app_secret)\"}" |
    field tenant_access_token)
  helpdesk_id=$(echo "$hd" | field helpdesk_id) app_id=$(echo "$app" | field app_id)
  ticket=$(curl -s "$base/open-apis/helpdesk/v1/start_service" -H "Authorization: Bearer $token" \
    -H "X-Lark-Helpdesk-Authorization: $cred" -d '{"open_id":"ou_bench"}' | field ticket_id)
  read -r image_key msg <<<"$(post_image "$base" "$1")"
  image_path="/open-apis/helpdesk/v1/ticket_images?ticket_id=$ticket&msg_id=$msg"
}

# post_image BASE FILE: after provision_image, uploads FILE through the API
# at BASE and posts it as an image message of $ticket; prints
# "IMAGE_KEY MESSAGE_ID".
post_image() {
  local key msg
  key=$(curl -s "$1/open-apis/im/v1/images" -H "Authorization: Bearer $token" \
    -F image_type=message -F "image=@$2" | field image_key)
  msg=$(curl -s "$1/open-apis/helpdesk/v1/tickets/$ticket/messages" -H "Authorization: Bearer $token" \
    -H "X-Lark-Helpdesk-Authorization: $cred" \
    -d "{\"msg_type\":\"image\",\"content\":\"{\\\"image_key\\\":\\\"$key\\\"}\"}" | field message_id)
  echo "$key $msg"
}

# random_png FILE BYTES: the PNG signature, then random bytes (never decoded).
random_png() { { printf '\x89PNG\r\n\x1a\n'; head -c $(($2 - 8)) /dev/urandom; } >"$1"; }

# populate_messages N: N more image messages in $ticket, written straight
# into the metadata database (the API would take minutes), each holding the
# image provision_image posted.
populate_messages() {
  local fill="
    INSERT INTO messages (id, message_id, ticket_id, message_type, content, image_count,
                          user_id, user_name, avatar_url, created_at)
      SELECT CAST(8000000000000000000 + n AS TEXT), 'om_fill' || n, m.ticket_id, m.message_type, m.content,
             1, m.user_id, m.user_name, m.avatar_url, m.created_at
      FROM messages m, fill WHERE m.ticket_id = '$ticket';
    INSERT INTO message_images (message_pk, idx, image_key, sha256, size, content_type, file_name)
      SELECT CAST(8000000000000000000 + n AS TEXT), 0, mi.image_key, mi.sha256, mi.size, mi.content_type, mi.file_name
      FROM message_images mi JOIN messages m ON m.id = mi.message_pk, fill
      WHERE m.ticket_id = '$ticket' AND m.message_id NOT LIKE 'om_fill%';"
  if [ -n "${HELPDESK_DATABASE_URL:-}" ]; then
    "$pgbin/psql" -q "$HELPDESK_DATABASE_URL" -c "CREATE TEMP TABLE fill AS SELECT generate_series(1, $1) AS n; $fill"
  else
    python3 - "$data/helpdesk.db" "$1" "$fill" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TEMP TABLE fill (n INTEGER)")
db.executemany("INSERT INTO fill VALUES (?)", ((i,) for i in range(1, int(sys.argv[2]) + 1)))
db.executescript(sys.argv[3])
db.commit()
PY
  fi
}

# provision_faq: after provision_image, an agent's FAQ whose answer holds
# that image; sets $faq_path (the faq_image path of it).
provision_faq() {
  local agent user faq
  agent=$("$bin" admin --data-dir "$data" agent create --helpdesk "$helpdesk_id" --name bench | field agent_id)
  user=$("$bin" admin --data-dir "$data" agent token --agent "$agent" --app "$app_id" | field user_access_token)
  faq=$(curl -s "$base/open-apis/helpdesk/v1/faqs" -H "Authorization: Bearer $user" \
    -d "{\"faq\":{\"question\":\"bench\",\"answer_richtext\":[{\"type\":\"image\",\"content\":\"$image_key\"}]}}" |
    field faq_id)
  faq_path="/open-apis/helpdesk/v1/faqs/$faq/image/$image_key"
}

# Shared by the scripts that measure a download beside nginx with wrk:
# nginx serving the same bytes from a file, the check that a server answers
# them, and one wrk run. The functions but need() use server.sh's $work and
# on_exit, and the $token and $cred of its provision_image.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/need.sh"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start_nginx FILE: nginx serving FILE's bytes from a file, as a static
# server would, on two ports: access log on ($nginx_url) and off
# ($nginx_nolog_url); sets $nginx_pid (stopped on exit). A second
# argument is added to the log-off port's listen directive: "reuseport"
# gives it a listening socket per worker, so that every worker takes its
# share of wrk's connections (bench-console's cold part); without it,
# whichever worker wakes first may take all 64 (about 72k req/s on this
# machine) or only some (47k to 58k), run by run.
start_nginx() {
  mkdir -p "$work/www" "$work/nginx"
  cp "$1" "$work/www/image.png"
  local port nolog_port
  port=$(free_port) nolog_port=$(free_port)
  cat >"$work/nginx/nginx.conf" <<CONF
$( [ "$(id -u)" = 0 ] && echo "user root;" )
worker_processes auto;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log $work/nginx/access.log;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  sendfile on; tcp_nopush on; keepalive_requests 1000000;
  server { listen 127.0.0.1:$port; root $work/www; location / { } }
  server { listen 127.0.0.1:$nolog_port${2:+ $2}; access_log off; root $work/www; location / { } }
}
CONF
  nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
  nginx_pid=$!
  on_exit 'kill "$nginx_pid" 2>/dev/null'
  nginx_url="http://127.0.0.1:$port/image.png"
  nginx_nolog_url="http://127.0.0.1:$nolog_port/image.png"
  for _ in $(seq 50); do curl -s -o /dev/null "$nginx_url" && break; sleep 0.1; done
}

# check NAME URL: NAME answers URL (with the credentials) 200 and the bytes
# whose SHA-256 is $want; else exits.
check() {
  # Three downloads on one keep-alive connection: the first may decide, the
  # others are what wrk gets (helpdesk's fast path, from the file when large).
  local name=$1 u=$2 statuses got i
  statuses=$(curl -s -w '%{http_code} ' -H "Authorization: Bearer $token" \
    -H "X-Lark-Helpdesk-Authorization: $cred" \
    -o "$work/check.0" "$u" -o "$work/check.1" "$u" -o "$work/check.2" "$u")
  for i in 0 1 2; do
    got=$(sha256sum <"$work/check.$i" | cut -d' ' -f1)
    if [ "$statuses" != "200 200 200 " ] || [ "$got" != "$want" ]; then
      echo "$name answered $statuses with other bytes (download $((i + 1)) of 3)" >&2; exit 1
    fi
  done
}

# write_wrk_lua: $work/wrk.lua, sending the credentials and printing one
# RESULT line (req/s, p50 us, p99 us, errors).
write_wrk_lua() {
  cat >"$work/wrk.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $token"
wrk.headers["X-Lark-Helpdesk-Authorization"] = "$cred"
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.1f %.1f %.1f %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99),
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
}

# measure NAME URL: one wrk run ($conns connections, $secs seconds);
# appends "rps p50_us p99_us" to $work/NAME.runs.
measure() {
  local line
  line=$(wrk -t1 -c"$conns" -d"${secs}s" -s "$work/wrk.lua" "$2" | grep '^RESULT')
  read -r _ rps p50 p99 errors <<<"$line"
  [ "$errors" = 0 ] || { echo "$1: $errors non-2xx answers or socket errors" >&2; exit 1; }
  printf '%-14s %10.0f req/s   p50 %8.0f us   p99 %8.0f us\n' "$1" "$rps" "$p50" "$p99"
  echo "$rps $p50 $p99" >>"$work/$1.runs"
}

# mean NAME COLUMN: the mean of a column of $work/NAME.runs (1 req/s, 2 p50, 3 p99).
mean() { awk -v c="$2" '{ s += $c } END { printf "%.1f", s / NR }' "$work/$1.runs"; }

# ratio A B: A's mean req/s over B's, and the same of p99
ratio() { awk -v ar="$(mean "$1" 1)" -v br="$(mean "$2" 1)" -v ap="$(mean "$1" 3)" -v bp="$(mean "$2" 3)" \
  'BEGIN { printf "req/s ratio %.2f, p99 ratio %.2f", ar / br, ap / bp }'; }

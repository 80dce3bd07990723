# The services the scale-out tests need, started on free loopback ports and
# removed on exit: a PostgreSQL cluster of its own in a temporary directory
# and an S3-compatible server (moto, from the test venv). Source it after
# the venv exists ($venv); call start_services. It exports
# HELPDESK_TEST_POSTGRES_URL, HELPDESK_TEST_S3_URL and the AWS_* variables
# that reach the bucket, and sets $services_dir.

pgbin=${PGBIN:-/usr/lib/postgresql/15/bin}

free_port() { "$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# as_pg CMD...: PostgreSQL refuses to run as root; run as the postgres user then.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop_services() {
  [ -n "${moto_pid:-}" ] && kill "$moto_pid" 2>/dev/null && wait "$moto_pid" 2>/dev/null
  [ -n "${pg_dir:-}" ] && as_pg "$pgbin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1
  [ -n "${services_dir:-}" ] && rm -rf "$services_dir"
  return 0
}

start_postgres() {
  if [ ! -x "$pgbin/initdb" ]; then
    echo "PostgreSQL server binaries not in $pgbin: installing postgresql with apt-get"
    { apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; } || return 1
    pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --no-create-home postgres || return 1
  fi
  pg_dir=$services_dir/pg
  mkdir -p "$pg_dir"
  [ "$(id -u)" = 0 ] && chown postgres "$pg_dir"
  as_pg "$pgbin/initdb" -D "$pg_dir/data" -U postgres -A trust --no-sync >"$pg_dir/initdb.log" 2>&1 || {
    cat "$pg_dir/initdb.log"
    return 1
  }
  local port
  port=$(free_port)
  # fsync off: these clusters hold throwaway test data, and the crash tests
  # kill helpdesk, not PostgreSQL.
  as_pg "$pgbin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 \
    -o "-p $port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=400" start >/dev/null || {
    cat "$pg_dir/server.log"
    return 1
  }
  export HELPDESK_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port"
  pg_port=$port
}

start_s3() {
  local port
  port=$(free_port)
  "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$services_dir/moto.log" 2>&1 &
  moto_pid=$!
  for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.1
  done
  curl -sf -X PUT "http://127.0.0.1:$port/helpdesk-test" >/dev/null || {
    cat "$services_dir/moto.log"
    return 1
  }
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
  export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ALLOW_HTTP=true
  export HELPDESK_TEST_S3_URL=s3://helpdesk-test
}

# createdb NAME: a fresh database on the test cluster; prints its URL.
createdb_url() {
  as_pg "$pgbin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres "$1" >/dev/null
  echo "$HELPDESK_TEST_POSTGRES_URL/$1"
}

start_services() {
  services_dir=$(mktemp -d)
  chmod 755 "$services_dir"
  if declare -F on_exit >/dev/null; then on_exit stop_services; else trap stop_services EXIT; fi
  if start_postgres && start_s3; then
    echo "services: PostgreSQL on $HELPDESK_TEST_POSTGRES_URL, S3 (moto) on $AWS_ENDPOINT_URL"
    return 0
  fi
  echo "!! PostgreSQL or the S3 server could not start: the postgres-s3 pass cannot run" >&2
  return 1
}

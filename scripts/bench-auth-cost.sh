#!/usr/bin/env bash
# Measures what nginx pays per request to check a bcrypt htpasswd line, at
# each cost mlk accepts. nginx checks the hash on every request, in its
# worker: this is latency every UI and API call carries.
# Usage: scripts/bench-auth-cost.sh [requests per cost]   (needs nginx, curl)
set -euo pipefail
n=${1:-40}
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release -q --manifest-path "$root/Cargo.toml"
mlk="$root/target/release/mlk"
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
port=$((20000 + RANDOM % 20000))
echo ok > "$dir/index.html"
user=""; [ "$(id -u)" = 0 ] && user="user root root;"
printf 'bench\n'
printf '%-6s %s\n' cost "ms/request (mean of $n, one connection each)"
for cost in 4 5 6 7 8 9 10 11 12; do
  echo "s3cret" | "$mlk" htpasswd alice --cost "$cost" > "$dir/auth"
  cat > "$dir/nginx.conf" <<CONF
$user
daemon off; master_process off; pid $dir/nginx.pid; error_log $dir/error.log;
events { worker_connections 64; }
http { access_log off; client_body_temp_path $dir/body; proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi; uwsgi_temp_path $dir/uwsgi; scgi_temp_path $dir/scgi;
  server { listen 127.0.0.1:$port; root $dir;
    location / { auth_basic "bench"; auth_basic_user_file $dir/auth; } } }
CONF
  /usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf" >/dev/null 2>&1 & pid=$!
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
  start=$(date +%s%N)
  for _ in $(seq "$n"); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -u alice:s3cret "http://127.0.0.1:$port/index.html")
    [ "$code" = 200 ] || { echo "cost $cost: got $code"; exit 1; }
  done
  end=$(date +%s%N)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  printf '%-6s %.1f\n' "$cost" "$(echo "($end - $start) / $n / 1000000" | bc -l)"
done

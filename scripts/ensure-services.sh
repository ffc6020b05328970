#!/usr/bin/env bash
# Make sure what the test suite needs is here: PostgreSQL on 127.0.0.1:5432 (postgres user,
# trust auth), Redis on 127.0.0.1:6379 (redis-server 7 or later: the cluster tests use
# sharded pub/sub), Chromium at /usr/bin/chromium and the nginx binary (the topology tests
# run their own nginx in front of two app processes).
#
# Idempotent: a service that answers is left alone. One that does not is started, and
# installed from Debian's packages first if missing (only as root). Every step is printed;
# a service that cannot be had stops the script with one line saying which.
set -euo pipefail

PG_HOST=127.0.0.1
PG_PORT=5432
REDIS_HOST=127.0.0.1
REDIS_PORT=6379
CHROMIUM=/usr/bin/chromium
TRIES=30 # seconds to wait for a started service to answer

say() { echo "ensure-services: $*"; }
fail() {
	echo "ensure-services: FAILED: $*" >&2
	exit 1
}
is_root() { [ "$(id -u)" = 0 ]; }

# Another apt/dpkg run (unattended upgrades, a background install) holds these locks; wait
# for it instead of failing. dpkg uses fcntl locks, so probe them the same way.
wait_for_apt() {
	local waited=0
	while ! python3 - <<'EOF' 2>/dev/null; do
import fcntl, sys
for path in ("/var/lib/dpkg/lock-frontend", "/var/lib/dpkg/lock", "/var/lib/apt/lists/lock"):
    try:
        with open(path, "a") as handle:
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except FileNotFoundError:
        continue
    except OSError:
        sys.exit(1)
EOF
		if [ "$waited" = 0 ]; then say "another apt/dpkg run holds the package lock; waiting for it"; fi
		waited=$((waited + 5))
		if [ "$waited" -ge 1800 ]; then fail "the apt/dpkg lock was still held after 30 minutes"; fi
		sleep 5
	done
}

APT_UPDATED=0
apt_install() {
	is_root || fail "$1 is missing and only root can install it (apt-get install -y $*)"
	wait_for_apt
	if [ "$APT_UPDATED" = 0 ]; then
		say "apt-get update"
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -q ||
			fail "apt-get update failed"
		APT_UPDATED=1
	fi
	say "apt-get install -y $*"
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q "$@" ||
		fail "apt-get install $* failed"
}

# --- PostgreSQL -------------------------------------------------------------------------

pg_answers() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; }

pg_cluster_version() {
	# The newest installed major version that has a "main" cluster.
	local version
	for version in $(ls /etc/postgresql 2>/dev/null | sort -V -r); do
		if [ -d "/etc/postgresql/$version/main" ]; then
			echo "$version"
			return 0
		fi
	done
	return 1
}

# Only for a server this script installed itself: tests log in as postgres over TCP with no
# password, as on the machines this project runs on. An existing setup is never changed.
pg_trust_local_tcp() {
	local hba="/etc/postgresql/$1/main/pg_hba.conf"
	say "PostgreSQL $1: trust authentication for 127.0.0.1 and ::1 in $hba"
	sed -i -E 's/^(host[[:space:]]+all[[:space:]]+all[[:space:]]+(127\.0\.0\.1\/32|::1\/128)[[:space:]]+)[a-z0-9-]+$/\1trust/' "$hba"
}

ensure_postgres() {
	if pg_answers 2>/dev/null; then
		say "PostgreSQL answers on $PG_HOST:$PG_PORT"
	else
		local installed=0 version
		if ! command -v pg_ctlcluster >/dev/null || ! pg_cluster_version >/dev/null; then
			say "PostgreSQL is not installed"
			apt_install postgresql
			installed=1
		fi
		version=$(pg_cluster_version) || fail "PostgreSQL is installed but has no 'main' cluster under /etc/postgresql"
		if [ "$installed" = 1 ]; then
			pg_trust_local_tcp "$version"
			# The package may have started the cluster with the old pg_hba.conf.
			pg_ctlcluster --skip-systemctl-redirect "$version" main stop 2>/dev/null || true
		fi
		say "starting PostgreSQL $version: pg_ctlcluster --skip-systemctl-redirect $version main start"
		pg_ctlcluster --skip-systemctl-redirect "$version" main start ||
			say "pg_ctlcluster reported an error; waiting for the server anyway"
		local i
		for ((i = 0; i < TRIES; i++)); do
			pg_answers 2>/dev/null && break
			sleep 1
		done
		pg_answers 2>/dev/null ||
			fail "PostgreSQL does not answer on $PG_HOST:$PG_PORT after ${TRIES}s (see /var/log/postgresql/)"
		say "PostgreSQL answers on $PG_HOST:$PG_PORT"
	fi
	psql -w -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1 ||
		fail "PostgreSQL answers but user postgres cannot log in over TCP without a password (tests need trust auth for $PG_HOST)"
}

# --- Redis ------------------------------------------------------------------------------

redis_answers() { [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

ensure_redis() {
	if command -v redis-cli >/dev/null && redis_answers; then
		say "Redis answers on $REDIS_HOST:$REDIS_PORT"
		return 0
	fi
	if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
		say "Redis is not installed"
		apt_install redis-server
		# The package may have started its own server on 6379 already.
		if redis_answers; then
			say "Redis answers on $REDIS_HOST:$REDIS_PORT"
			return 0
		fi
	fi
	mkdir -p /var/lib/redis /var/log/redis
	say "starting Redis: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port $REDIS_PORT (no persistence)"
	redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" \
		--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log ||
		say "redis-server reported an error; waiting for the server anyway"
	local i
	for ((i = 0; i < TRIES; i++)); do
		redis_answers && break
		sleep 1
	done
	redis_answers ||
		fail "Redis does not answer on $REDIS_HOST:$REDIS_PORT after ${TRIES}s (see /var/log/redis/ci.log)"
	say "Redis answers on $REDIS_HOST:$REDIS_PORT"
}

# --- Chromium ---------------------------------------------------------------------------

ensure_chromium() {
	if [ ! -x "$CHROMIUM" ]; then
		say "Chromium is not installed"
		apt_install chromium fonts-dejavu-core
		[ -x "$CHROMIUM" ] || fail "Chromium is still missing at $CHROMIUM after apt-get install chromium"
	fi
	say "Chromium: $("$CHROMIUM" --version 2>/dev/null || echo "at $CHROMIUM")"
}

# --- nginx ------------------------------------------------------------------------------

NGINX=/usr/sbin/nginx

ensure_nginx() {
	if [ ! -x "$NGINX" ]; then
		say "nginx is not installed"
		apt_install nginx-light
		[ -x "$NGINX" ] || fail "nginx is still missing at $NGINX after apt-get install nginx-light"
		# The package may have started its own server on port 80; the tests run their own.
		if [ -s /run/nginx.pid ]; then
			say "stopping the nginx the package started (nginx -s quit)"
			"$NGINX" -s quit || true
		fi
	fi
	say "nginx: $("$NGINX" -v 2>&1)"
}

ensure_postgres
ensure_redis
ensure_chromium
ensure_nginx

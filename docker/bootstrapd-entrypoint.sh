#!/bin/sh
# Container entrypoint for tox-bootstrapd: writes its config, publishes its public key for companions, then becomes the daemon.
#
# Environment (all optional):
#   BOOTSTRAP_PORT        UDP DHT port (default 33445)
#   BOOTSTRAP_TCP_PORT    TCP relay port (default 33446)
#   BOOTSTRAP_KEYS_DIR    where the 64-byte keys file lives; a volume keeps the node's identity (default /var/lib/tox-bootstrapd)
#   BOOTSTRAP_PUBLISH_DIR where "bootstrap.key" (64 hex) and "bootstrap.node" (host:port:key) are written (default /bootstrap)
#   BOOTSTRAP_PUBLISH_HOST host part written into bootstrap.node (default: this container's hostname)
#   BOOTSTRAP_MOTD        message of the day (default "tox-persona local bootstrap")
#   BOOTSTRAP_RUN_DIR     where the generated config and the pid file go (default /tmp)
set -eu

port=${BOOTSTRAP_PORT:-33445}
tcp_port=${BOOTSTRAP_TCP_PORT:-33446}
keys_dir=${BOOTSTRAP_KEYS_DIR:-/var/lib/tox-bootstrapd}
publish_dir=${BOOTSTRAP_PUBLISH_DIR:-/bootstrap}
publish_host=${BOOTSTRAP_PUBLISH_HOST:-$(hostname)}
motd=${BOOTSTRAP_MOTD:-tox-persona local bootstrap}
run_dir=${BOOTSTRAP_RUN_DIR:-/tmp}
conf=$run_dir/tox-bootstrapd.conf

case "$port$tcp_port" in *[!0-9]*) echo "bootstrapd-entrypoint: ports must be numbers" >&2; exit 64 ;; esac
case "$motd" in *'"'*|*'\'*) echo "bootstrapd-entrypoint: BOOTSTRAP_MOTD must not contain quotes or backslashes" >&2; exit 64 ;; esac
mkdir -p "$keys_dir" "$publish_dir" "$run_dir"

# libconfig syntax, as documented in tox-bootstrapd's example config. LAN discovery and IPv6 are
# off: the container network is the whole world this node needs to serve.
cat >"$conf" <<CONF
port = $port
keys_file_path = "$keys_dir/keys"
pid_file_path = "$run_dir/tox-bootstrapd.pid"
enable_ipv6 = false
enable_ipv4_fallback = true
enable_lan_discovery = false
enable_tcp_relay = true
tcp_relay_ports = [$tcp_port]
enable_motd = true
motd = "$motd"
bootstrap_nodes = ()
CONF

# The daemon creates the keys file on first start (public key = first 32 bytes). Publish it once it
# exists, atomically (temp + rename), so a reader never sees half a key.
(
  i=0
  while [ ! -s "$keys_dir/keys" ] || [ "$(wc -c <"$keys_dir/keys")" -lt 64 ]; do
    i=$((i + 1))
    if [ "$i" -gt 300 ]; then echo "bootstrapd-entrypoint: keys file never appeared in $keys_dir" >&2; exit 1; fi
    sleep 0.1
  done
  key=$(od -An -tx1 -N32 "$keys_dir/keys" | tr -d ' \n' | tr 'a-f' 'A-F')
  # bootstrap.key last: it is what readers wait for, so bootstrap.node is there by the time it appears.
  printf '%s:%s:%s\n' "$publish_host" "$port" "$key" >"$publish_dir/.bootstrap.node.tmp" && mv -f "$publish_dir/.bootstrap.node.tmp" "$publish_dir/bootstrap.node"
  printf '%s\n' "$key" >"$publish_dir/.bootstrap.key.tmp" && mv -f "$publish_dir/.bootstrap.key.tmp" "$publish_dir/bootstrap.key"
  echo "bootstrapd-entrypoint: published public key $key to $publish_dir/bootstrap.key (node $publish_host:$port)"
) &

exec tox-bootstrapd --config="$conf" --foreground --log-backend=stdout "$@"

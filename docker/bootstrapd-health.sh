#!/bin/bash
# Health check for tox-bootstrapd: sends the bootstrap-info request (0xF0 + 77 bytes) over UDP and expects a 0xF0 reply.
set -eu
port=${BOOTSTRAP_PORT:-33445}
exec 3<>"/dev/udp/127.0.0.1/$port"
# 0xF0 then 77 filler bytes, in ONE write (one datagram): toxcore ignores shorter requests.
printf '\360%077d' 0 >&3
reply=$(timeout 2 head -c 5 <&3 | od -An -tu1 | tr -s ' ')
set -- $reply
[ "${1:-}" = 240 ] || { echo "no bootstrap-info reply on 127.0.0.1:$port" >&2; exit 1; }
version=$(( ($2 << 24) | ($3 << 16) | ($4 << 8) | $5 ))
echo "tox-bootstrapd healthy, version $version"

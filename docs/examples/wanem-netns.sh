#!/usr/bin/env bash
# The namespace set-up of docs/wanem.md, checked end to end (root; cleans up on exit): edge ns ── veth ── wan ns (sdwan wanem) ── veth ── hub ns.
set -euo pipefail
S=wt$$
cd "$(dirname "$0")/../.."
B=${SDWAN:-$PWD/.build/release/sdwan}
cleanup() {
  [ -n "${WPID:-}" ] && kill "$WPID" 2>/dev/null || true
  for n in edge-$S wan-$S hub-$S; do ip netns del $n 2>/dev/null || true; done
}
trap cleanup EXIT
for n in edge-$S wan-$S hub-$S; do ip netns add $n; ip -n $n link set lo up; done
ip link add e0-$S type veth peer name w0-$S
ip link add w1-$S type veth peer name h0-$S
ip link set e0-$S netns edge-$S; ip link set w0-$S netns wan-$S
ip link set w1-$S netns wan-$S;  ip link set h0-$S netns hub-$S
ip -n edge-$S addr add 10.77.1.2/24 dev e0-$S; ip -n edge-$S link set e0-$S up
ip -n wan-$S addr add 10.77.1.1/24 dev w0-$S;  ip -n wan-$S link set w0-$S up
ip -n wan-$S addr add 10.77.2.1/24 dev w1-$S;  ip -n wan-$S link set w1-$S up
ip -n hub-$S addr add 10.77.2.2/24 dev h0-$S;  ip -n hub-$S link set h0-$S up
ip netns exec wan-$S $B wanem --topology $PWD/topologies/retail-branch.yaml \
  --listen 10.77.1.1:40000 --hub-facing 10.77.2.1 --hub 10.77.2.2:51820 --duration 4 --json /tmp/wanem-netns.json &
WPID=$!
ip netns exec hub-$S python3 -c '
import socket; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("10.77.2.2",51820)); s.settimeout(3)
try:
  while True:
    d,a=s.recvfrom(2048); s.sendto(d,a)
except socket.timeout: pass' &
sleep 1
ip netns exec edge-$S python3 -c '
import socket,time; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("10.77.1.2",0)); s.settimeout(1)
t=time.monotonic(); s.sendto(b"x"*100,("10.77.1.1",40000)); s.recvfrom(2048); print("mpls echo RTT %.1f ms" % ((time.monotonic()-t)*1e3))'
ip netns exec wan-$S $B wanem ctl mpls delay 100ms
ip netns exec edge-$S python3 -c '
import socket,time; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("10.77.1.2",0)); s.settimeout(1)
t=time.monotonic(); s.sendto(b"x"*100,("10.77.1.1",40000)); s.recvfrom(2048); print("mpls echo RTT after ctl delay 100ms: %.1f ms" % ((time.monotonic()-t)*1e3))'
wait $WPID; WPID=
python3 -c 'import json; d=json.load(open("/tmp/wanem-netns.json")); l=d["links"][0]; print(l["name"], "up passed", l["up"]["model"]["passed"], "down passed", l["down"]["model"]["passed"], "edge source", l["edgeSource"])'

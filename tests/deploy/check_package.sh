#!/usr/bin/env bash
# ok() always succeeds, so `test && ok ... || fail ...` is an if-else here.
# shellcheck disable=SC2015
# Build the .deb and check that it installs every file where the systemd unit
# and the docs expect it — without installing anything on this machine.
#
#   bash tests/deploy/check_package.sh BUILD_DIR SOURCE_DIR
#
# 1. `cpack -G DEB` in BUILD_DIR (output to a scratch folder);
# 2. `dpkg-deb -I` / `-c` / `-e`: metadata, file list, maintainer scripts,
#    conffiles;
# 3. `dpkg-deb -x` into a scratch root: the unit's ExecStart binary exists,
#    is executable and answers --version; EnvironmentFile exists; dashboards,
#    alerts, the scrape snippet and the docs are there (those of the source
#    tree); the paths the shipped configs point at exist;
# 4. `sh -n` on the maintainer scripts; when running as root with
#    unshare(1), they are also run in a throw-away mount namespace (/etc and
#    /var on a tmpfs overlay, /opt and /run on tmpfs), twice, to check users,
#    folders, ownership and idempotence, and the packaged binary runs there
#    as the service user;
# 5. `systemd-analyze verify` on the unit (ExecStart pointed at the scratch
#    binary), and its `security --offline` exposure score.
#
# Exit 0 all good, 1 a check failed, 77 (skip) when everything that could run
# passed but systemd-analyze is not installed. Needs: cmake (cpack), dpkg
# (dpkg-deb), dpkg-dev and file (dpkg-shlibdeps, for the Depends line),
# systemd (systemd-analyze).
set -uo pipefail

if (($# != 2)); then
  echo "usage: $0 BUILD_DIR SOURCE_DIR" >&2
  exit 2
fi
build=$(cd "$1" && pwd) || exit 2
src=$(cd "$2" && pwd) || exit 2

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok:   $*"; }
note() { echo "note: $*"; }

for tool in cpack dpkg-deb; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool not installed" >&2
    exit 77
  fi
done

scratch=$(mktemp -d "${TMPDIR:-/tmp}/hlo-deb.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
# World-readable, so the service user can reach the packaged binary in the
# namespace test below.
chmod 0755 "$scratch"

# --- 1. build the package ----------------------------------------------------
echo "== cpack -G DEB in $build"
if ! (cd "$build" && cpack -G DEB -B "$scratch/pkg") >"$scratch/cpack.log" 2>&1; then
  cat "$scratch/cpack.log" >&2
  fail "cpack -G DEB failed"
  exit 1
fi
shopt -s nullglob
debs=("$scratch"/pkg/homelab-observer_*.deb)
shopt -u nullglob
if ((${#debs[@]} != 1)); then
  cat "$scratch/cpack.log" >&2
  fail "expected one homelab-observer_*.deb, found ${#debs[@]}"
  exit 1
fi
deb=${debs[0]}
ok "built $(basename "$deb")"

# --- 2. metadata, file list, control files -----------------------------------
info=$(dpkg-deb -I "$deb") || { fail "dpkg-deb -I"; exit 1; }
field() { dpkg-deb -f "$deb" "$1"; }
[[ $(field Package) == homelab-observer ]] && ok "Package: homelab-observer" ||
  fail "Package is '$(field Package)'"
version=$(field Version)
project_version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build/CPackConfig.cmake")
[[ -n $version && $version == "$project_version" ]] && ok "Version: $version" ||
  fail "Version '$version' is not the project's '$project_version'"
depends=$(field Depends)
# adduser for postinst, and the package of every shared library the packaged
# binary needs (its NEEDED entries, found through ldconfig and dpkg -S): a
# library that stops being linked (prometheus-cpp-core, once /metrics was
# rendered without its serializer) must not be required, and a new one must.
required=(adduser)
while read -r soname; do
  lib=$(ldconfig -p | awk -v so="$soname" '$1 == so { print $NF; exit }')
  pkg=$(dpkg -S "$lib" 2>/dev/null | head -1 | cut -d: -f1)
  [[ -n $pkg ]] || pkg=$(dpkg -S "$(realpath "$lib" 2>/dev/null)" 2>/dev/null | head -1 | cut -d: -f1)
  if [[ -n $pkg ]]; then required+=("$pkg"); else fail "no package provides $soname ($lib)"; fi
done < <(objdump -p "$build/bin/homelab-observer" | awk '/NEEDED/ { print $2 }')
for dep in $(printf '%s\n' "${required[@]}" | sort -u); do
  [[ ", $depends," == *", $dep"[\ ,]* ]] || fail "Depends lacks $dep: $depends"
done
ok "Depends covers the binary's libraries (${#required[@]} checked): $depends"
[[ -n $(field Maintainer) && -n $(field Description) ]] || fail "Maintainer or Description empty"
case $(field Section) in net|admin) ok "Section: $(field Section)" ;; *) fail "Section '$(field Section)'" ;; esac
for f in conffiles postinst prerm postrm; do
  grep -Eq "^ +[0-9]+ bytes, +[0-9]+ lines +[* ] +$f( |$)" <<<"$info" ||
    fail "control member $f missing from dpkg-deb -I"
done

listing=$(dpkg-deb -c "$deb") || { fail "dpkg-deb -c"; exit 1; }
# Every member owned by root, and nothing outside the expected places (a stray
# install() rule elsewhere in the tree would show up here).
bad_owner=$(awk '$2 != "root/root"' <<<"$listing")
[[ -z $bad_owner ]] && ok "all members owned by root/root" || fail "members not root/root: $bad_owner"
unexpected=$(awk '$1 !~ /^d/ {print $NF}' <<<"$listing" | grep -Ev \
  '^\./(usr/bin/homelab-observer|lib/systemd/system/homelab-observer\.service|etc/default/homelab-observer|usr/share/homelab-observer/.+|usr/share/doc/homelab-observer/.+|usr/share/man/.+)$')
[[ -z $unexpected ]] && ok "no unexpected files" || fail "unexpected files in the package: $unexpected"
grep -Eq '^-rwxr-xr-x root/root .* \./usr/bin/homelab-observer$' <<<"$listing" ||
  fail "usr/bin/homelab-observer is not -rwxr-xr-x root/root"

ctrl="$scratch/control"
dpkg-deb -e "$deb" "$ctrl" || { fail "dpkg-deb -e"; exit 1; }
if grep -qx /etc/default/homelab-observer "$ctrl/conffiles" 2>/dev/null; then
  ok "conffiles lists /etc/default/homelab-observer"
else
  fail "conffiles does not list /etc/default/homelab-observer"
fi
for s in postinst prerm postrm; do
  if [[ ! -x $ctrl/$s ]]; then
    fail "$s missing or not executable"
    continue
  fi
  [[ $(head -n1 "$ctrl/$s") == "#!/bin/sh" ]] || fail "$s does not start with #!/bin/sh"
  grep -q '^set -e' "$ctrl/$s" || fail "$s lacks set -e"
  if sh -n "$ctrl/$s" && { ! command -v dash >/dev/null || dash -n "$ctrl/$s"; }; then
    ok "$s: present, executable, sh -n clean"
  else
    fail "$s: sh -n reports a syntax error"
  fi
  cmp -s "$ctrl/$s" "$src/deploy/debian/$s" || fail "$s differs from deploy/debian/$s"
done

# --- 3. extract and check the layout ----------------------------------------
root="$scratch/root"
mkdir "$root" && chmod 0755 "$root"
dpkg-deb -x "$deb" "$root" || { fail "dpkg-deb -x"; exit 1; }
while read -r conffile; do
  [[ -z $conffile ]] && continue
  [[ -f $root$conffile ]] || fail "conffile $conffile is not in the package"
done <"$ctrl/conffiles"

unit_rel=lib/systemd/system/homelab-observer.service
unit="$root/$unit_rel"
if [[ ! -f $unit ]]; then
  fail "$unit_rel missing"
  exit 1
fi
ok "unit at /$unit_rel"
cmp -s "$unit" "$src/deploy/homelab-observer.service" || fail "packaged unit differs from deploy/"

# ExecStart: the first word, without the special prefixes (- @ : + !).
exec_line=$(sed -n 's/^ExecStart=//p' "$unit")
[[ $(wc -l <<<"$exec_line") -eq 1 && -n $exec_line ]] || fail "expected one ExecStart= line: $exec_line"
exe=$(awk '{print $1}' <<<"$exec_line" | sed 's/^[-@:+!]*//')
bin="$root$exe"
if [[ $exe != /* ]]; then
  fail "ExecStart binary '$exe' is not an absolute path"
elif [[ ! -f $bin || ! -x $bin ]]; then
  fail "ExecStart binary $exe is not an executable file in the package"
else
  out=$("$bin" --version 2>&1)
  rc=$?
  if ((rc == 0)) && [[ $out == "homelab-observer $version" ]]; then
    ok "$exe --version: $out"
  else
    fail "$exe --version gave rc=$rc '$out' (want 'homelab-observer $version')"
  fi
fi
[[ $exec_line == *" run "* || $exec_line == *" run" ]] || fail "ExecStart does not run the daemon: $exec_line"

env_files=$(sed -n 's/^EnvironmentFile=-\{0,1\}//p' "$unit")
[[ -n $env_files ]] || fail "the unit has no EnvironmentFile="
for f in $env_files; do
  if [[ -f $root$f ]]; then ok "EnvironmentFile $f is in the package"; else fail "EnvironmentFile $f is not in the package"; fi
  grep -q "^HOMELAB_OBSERVER_ARGS=" "$root$f" || fail "$f does not set HOMELAB_OBSERVER_ARGS"
done
# shellcheck disable=SC2016 # the literal text $HOMELAB_OBSERVER_ARGS
[[ $exec_line == *'$HOMELAB_OBSERVER_ARGS'* ]] || fail "ExecStart does not pass \$HOMELAB_OBSERVER_ARGS"

# The arguments the default file sets must parse (a typo there would make the
# service fail at start). `validate` shares --root with `run`; the root is
# swapped for an empty scratch one.
if [[ -x $bin && -f $root/etc/default/homelab-observer ]]; then
  args=$(sed -n 's/^HOMELAB_OBSERVER_ARGS="\(.*\)"$/\1/p' "$root/etc/default/homelab-observer" | tail -n1)
  mkdir -p "$scratch/emptyroot/events"
  # shellcheck disable=SC2086
  out=$("$bin" validate ${args//\/opt\/homelab/$scratch/emptyroot} 2>&1)
  rc=$?
  ((rc == 0)) && ok "default HOMELAB_OBSERVER_ARGS parse ($args)" ||
    fail "homelab-observer validate $args: rc=$rc: $out"
fi

# Data files: every file the source tree has must be packaged, unchanged.
share=usr/share/homelab-observer
expect_tree() {  # folder destination find-args...
  local folder=$1 dest=$2
  shift 2
  [[ -d $src/$folder ]] || { note "$folder/ not in the source tree; nothing to check"; return; }
  local n=0 rel
  while IFS= read -r -d '' rel; do
    rel=${rel#./}
    n=$((n + 1))
    if [[ ! -f $root/$dest/$rel ]]; then
      fail "$folder/$rel is not packaged as /$dest/$rel"
    elif ! cmp -s "$src/$folder/$rel" "$root/$dest/$rel"; then
      fail "/$dest/$rel differs from $folder/$rel (stale build dir? re-run cmake)"
    fi
  done < <(cd "$src/$folder" && find . -type f "$@" -print0)
  ok "$folder/: $n file(s) in /$dest"
}
expect_tree dashboards "$share/dashboards" \( -name '*.json' -o -name '*.yml' -o -name '*.yaml' -o -name '*.md' \)
expect_tree alerts "$share/alerts" \( -name '*.yml' -o -name '*.yaml' -o -name '*.tmpl' -o -name '*.md' \) \
  ! -name '*.test' ! -name '*.test.*'
[[ -f $root/$share/prometheus-scrape.yml ]] && ok "/$share/prometheus-scrape.yml" ||
  fail "prometheus-scrape.yml is not in /$share"
for md in "$src"/README.md "$src"/docs/*.md; do
  [[ -f $root/usr/share/doc/homelab-observer/$(basename "$md") ]] ||
    fail "$(basename "$md") is not in /usr/share/doc/homelab-observer"
done
grep -q 'operations.md' "$unit" && [[ ! -f $root/usr/share/doc/homelab-observer/operations.md ]] &&
  fail "the unit's Documentation= names operations.md, which is not packaged"

# Paths the shipped configuration points at must be shipped.
scrape="$root/$share/prometheus-scrape.yml"
if [[ -f $scrape ]]; then
  while IFS= read -r rule; do
    [[ -f $root$rule ]] && ok "rule file $rule (from prometheus-scrape.yml) is packaged" ||
      fail "prometheus-scrape.yml names $rule, which is not in the package"
  done < <(sed -n 's/^ *- *\(\/usr\/share\/homelab-observer\/[^ #]*\).*/\1/p' "$scrape")
  if command -v promtool >/dev/null; then
    sed "s#/usr/share/homelab-observer/#$root/$share/#" "$scrape" >"$scratch/prometheus.yml"
    if out=$(promtool check config "$scratch/prometheus.yml" 2>&1); then
      ok "promtool check config on the scrape snippet (with the packaged rules)"
    else
      fail "promtool check config: $out"
    fi
  fi
fi
while IFS= read -r p; do
  [[ -d $root$p ]] && ok "Grafana provisioning path $p is packaged" ||
    fail "a Grafana provisioning file names $p, which is not in the package"
done < <(grep -rhoE '^\s*path:\s*/usr/share/homelab-observer[^ #"]*' "$root/$share/dashboards" 2>/dev/null |
  sed -E 's/^\s*path:\s*//' | sort -u)

# --- 4. maintainer scripts in a throw-away namespace -------------------------
# Only as root, and only when every mount succeeds: /etc and /var get a
# tmpfs-backed overlay (adduser writes there), /opt and /run a fresh tmpfs
# (no real /opt/homelab, no real systemd to talk to). Nothing leaves the
# namespace.
sandbox_script=$(cat <<'EOS'
set -eu
ctrl=$1 root=$2 scratch=$3
tmp=$scratch/ns
mkdir -p "$tmp"
mount -t tmpfs tmpfs "$tmp"
for d in etc var; do
  mkdir -p "$tmp/$d.upper" "$tmp/$d.work"
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$tmp/$d.upper,workdir=$tmp/$d.work" "/$d"
  [ "$(findmnt -n -o FSTYPE "/$d")" = overlay ]
done
mount -t tmpfs tmpfs /opt
mount -t tmpfs tmpfs /run
[ "$(findmnt -n -o FSTYPE /opt)" = tmpfs ] && [ "$(findmnt -n -o FSTYPE /run)" = tmpfs ]
echo SANDBOX-READY

check() {  # path owner:group mode
  got=$(stat -c '%U:%G %a' "$1")
  [ "$got" = "$2 $3" ] || { echo "FAIL: $1 is $got, want $2 $3" >&2; exit 1; }
}

! getent passwd homelab-observer >/dev/null || echo "note: homelab-observer user already exists on this machine"
sh "$ctrl/postinst" configure ""
getent passwd homelab-observer | grep -q ':/nonexistent:' || { echo "FAIL: user not created with home /nonexistent" >&2; exit 1; }
getent group homelab-observer >/dev/null || { echo "FAIL: group not created" >&2; exit 1; }
[ "$(id -gn homelab-observer)" = homelab-observer ] || { echo "FAIL: primary group" >&2; exit 1; }
check /opt/homelab root:root 755
check /opt/homelab/events root:root 755
check /opt/homelab/logs root:root 755
check /opt/homelab/state homelab-observer:homelab-observer 755
check /opt/homelab/world homelab-observer:homelab-observer 755
check /opt/homelab/state/stages root:root 755

# A world file left by a manual run as root is handed over; a stage marker is
# not; an upgrade (configure with the old version) is idempotent.
echo '{}' >/opt/homelab/world/nodes.json
mkdir -p /opt/homelab/state/stages/n1 && : >/opt/homelab/state/stages/n1/base
sh "$ctrl/postinst" configure 0.0.1
sh "$ctrl/postinst" configure 0.0.1
check /opt/homelab/world/nodes.json homelab-observer:homelab-observer 644
check /opt/homelab/state/stages/n1/base root:root 644
[ "$(getent passwd homelab-observer | wc -l)" = 1 ]

# The service user can do its job with this layout: read events/, write
# state/ and world/.
cat >/opt/homelab/events/0001.jsonl <<'EV'
{"timestamp":"2026-05-12T12:00:00Z","type":"node_heartbeat","node":"n1"}
EV
uid=$(id -u homelab-observer) gid=$(id -g homelab-observer)
setpriv --reuid="$uid" --regid="$gid" --clear-groups \
  "$root/usr/bin/homelab-observer" once --root /opt/homelab --now 2026-05-12T12:01:00Z
check /opt/homelab/world/runtime-summary.json homelab-observer:homelab-observer 644
check /opt/homelab/state/observer_checkpoint.json homelab-observer:homelab-observer 644
grep -q '"n1"' /opt/homelab/world/nodes.json

sh "$ctrl/prerm" upgrade 0.2.0
sh "$ctrl/prerm" remove
sh "$ctrl/postrm" remove
mkdir -p /etc/systemd/system/multi-user.target.wants
ln -s /lib/systemd/system/homelab-observer.service /etc/systemd/system/multi-user.target.wants/
sh "$ctrl/postrm" purge
sh "$ctrl/postrm" purge
[ ! -e /etc/systemd/system/multi-user.target.wants/homelab-observer.service ] &&
  [ ! -L /etc/systemd/system/multi-user.target.wants/homelab-observer.service ] ||
  { echo "FAIL: purge left the enablement symlink" >&2; exit 1; }
[ -f /opt/homelab/events/0001.jsonl ] && [ -f /opt/homelab/state/observer_checkpoint.json ] ||
  { echo "FAIL: purge removed data" >&2; exit 1; }
echo SANDBOX-OK
EOS
)
if [[ $(id -u) -ne 0 ]] || ! command -v unshare >/dev/null || ! command -v setpriv >/dev/null; then
  note "not root or no unshare/setpriv: maintainer scripts only syntax-checked"
else
  out=$(unshare --mount --propagation private bash -c "$sandbox_script" sandbox "$ctrl" "$root" "$scratch" 2>&1)
  rc=$?
  if [[ $out == *SANDBOX-OK* && $rc -eq 0 ]]; then
    ok "postinst/prerm/postrm in a private namespace: user, folders, ownership, idempotence, data kept on purge"
  elif [[ $out != *SANDBOX-READY* ]]; then
    note "could not set up a private mount namespace; maintainer scripts only syntax-checked: $out"
  else
    fail "maintainer scripts in a private namespace (rc=$rc): $out"
  fi
fi

# --- 5. systemd-analyze ------------------------------------------------------
if ! command -v systemd-analyze >/dev/null; then
  if ((failures > 0)); then
    echo "$failures check(s) failed" >&2
    exit 1
  fi
  echo "SKIP: systemd-analyze not installed (package systemd); every other check passed" >&2
  exit 77
fi
vdir="$scratch/verify"
mkdir "$vdir"
# verify checks that ExecStart's binary exists: point it at the extracted one.
sed "s#^ExecStart=$exe #ExecStart=$bin #" "$unit" >"$vdir/homelab-observer.service"
grep -q "^ExecStart=$bin " "$vdir/homelab-observer.service" || fail "could not rewrite ExecStart for verify"
out=$(cd "$vdir" && SYSTEMD_LOG_LEVEL=notice SYSTEMD_LOG_COLOR=0 \
  systemd-analyze verify --man=no "$vdir/homelab-observer.service" 2>&1)
rc=$?
unit_lines=$(grep -F 'homelab-observer' <<<"$out")
if ((rc != 0)) || [[ -n $unit_lines ]]; then
  fail "systemd-analyze verify (rc=$rc): ${unit_lines:-$out}"
else
  ok "systemd-analyze verify: clean"
fi
if sec=$(cd "$vdir" && SYSTEMD_LOG_LEVEL=err systemd-analyze security --offline=true --no-pager \
    "$vdir/homelab-observer.service" 2>&1); then
  score=$(grep -Eo 'Overall exposure level for .*' <<<"$sec")
  note "systemd-analyze security: ${score:-?}"
  # The unit should stay among the well-hardened ones ("OK", below 3.0).
  level=$(grep -Eo 'level for [^:]*: [0-9.]+' <<<"$sec" | grep -Eo '[0-9.]+$')
  if [[ -n $level ]] && awk -v l="$level" 'BEGIN { exit !(l < 3.0) }'; then
    ok "exposure $level < 3.0"
  elif [[ -n $level ]]; then
    fail "systemd-analyze security exposure $level, want < 3.0"
  fi
else
  note "systemd-analyze security --offline unavailable here"
fi

if ((failures > 0)); then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all package checks passed"

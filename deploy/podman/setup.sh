#!/usr/bin/env bash
# Build the nodes:latest image with rootful podman on a Debian machine, with no registry needed.
#
#   sudo deploy/podman/setup.sh            # from anywhere; prints what it did and the image's size
#
# 1. Installs podman, podman-compose, runc, netavark, aardvark-dns and debootstrap from Debian when missing.
# 2. Writes /etc/containers/containers.conf.d/50-nodes.conf with only those settings this machine needs (each is
#    printed with its reason): the open-files limit podman asks for, runc where cgroups are hybrid, and no copy of
#    the host's /etc/hosts where it maps the machine's own name (a lab node may have that name) to loopback.
# 3. For each image the Dockerfile's FROM lines name that is not present, makes a local stand-in: a debootstrap root
#    file system (cached as a tarball in /var/cache/nodes-containers) with this machine's .NET. Where the official
#    images were pulled, they are used as they are; deploy/ is the same for everyone.
# 4. Builds deploy/Dockerfile with --pull=never, and with --network none on the stand-ins (nothing leaves the machine;
#    the official SDK image restores packages from the network).
#
# NODES_IMAGE (default nodes:latest) names the image built.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
image=${NODES_IMAGE:-nodes:latest}
cache=/var/cache/nodes-containers
dropin=/etc/containers/containers.conf.d/50-nodes.conf
started=$(date +%s)

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 2; }

[ "$(id -u)" = 0 ] || die "run as root (rootful podman): sudo $0"

# 1. Packages.
# netavark sets up each network's forwarding and NAT through the iptables command (nft tables with Debian's iptables-nft):
# without it every container fails to start with "netavark: No such file or directory".
packages=(podman podman-compose runc netavark aardvark-dns iptables debootstrap)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
fi

# 2. Engine settings, only the ones this machine needs.
settings_containers=()
settings_engine=()
hard_nofile=$(ulimit -Hn)
if [ "$hard_nofile" != unlimited ] && [ "$hard_nofile" -lt 1048576 ]; then
  hard_nproc=$(ulimit -Hu)
  [ "$hard_nproc" = unlimited ] || [ "$hard_nproc" -gt 32768 ] && hard_nproc=32768
  say "containers.conf: default_ulimits nofile=$hard_nofile, nproc=$hard_nproc (the hard open-files limit here is $hard_nofile; podman asks for 1048576 and root may not raise it)"
  settings_containers+=("default_ulimits = [\"nofile=$hard_nofile:$hard_nofile\", \"nproc=$hard_nproc:$hard_nproc\"]")
fi
hybrid=$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null || true)
if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ] && [ -n "$hybrid" ] && command -v crun >/dev/null; then
  say "containers.conf: runtime runc (cgroups are hybrid, v1 controllers beside a cgroup2 holding $hybrid; crun refuses that)"
  settings_engine+=('runtime = "runc"')
fi
if awk -v h="$(hostname)" '$1 ~ /^(127\.|::1$)/ { for (i = 2; i <= NF; i++) if ($i == h) found = 1 } END { exit !found }' /etc/hosts; then
  say "containers.conf: base_hosts_file none (/etc/hosts maps this machine's name '$(hostname)' to loopback; copied into a container, a lab node of that name would resolve to itself)"
  settings_containers+=('base_hosts_file = "none"')
fi
wanted=$(
  echo "# Written by deploy/podman/setup.sh for the settings this machine needs; delete it to undo."
  if [ ${#settings_containers[@]} -gt 0 ]; then echo "[containers]"; printf '%s\n' "${settings_containers[@]}"; fi
  if [ ${#settings_engine[@]} -gt 0 ]; then echo "[engine]"; printf '%s\n' "${settings_engine[@]}"; fi
)
if [ ${#settings_containers[@]} -eq 0 ] && [ ${#settings_engine[@]} -eq 0 ]; then
  say "containers.conf: this machine needs no setting"
  rm -f "$dropin"
elif [ "$(cat "$dropin" 2>/dev/null)" != "$wanted" ]; then
  mkdir -p "$(dirname "$dropin")"
  printf '%s\n' "$wanted" > "$dropin"
  say "wrote $dropin"
fi

# 3. Base images: the ones the Dockerfile names, or stand-ins made here.
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}")
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet || die 'dotnet is not installed: the stand-in images carry this machine'"'"'s .NET')")")
base=localhost/nodes-standin-base:$codename

mirror() {
  # The Debian mirror apt already uses (deb822 sources first, then sources.list).
  local uri
  uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$uri" ] || uri=$(awk '$1 == "deb" && $3 == "'"$codename"'" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
  [ -n "$uri" ] || die "no Debian mirror in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list for debootstrap"
  echo "$uri"
}

make_base() {
  podman image exists "$base" && return
  local icu tarball rootfs
  icu=$(dpkg-query -W -f='${Package}\n' 'libicu[0-9]*' 2>/dev/null | grep -E '^libicu[0-9]+$' | head -n1)
  [ -n "$icu" ] || die "no libicu package installed here to name in the stand-in root file system"
  tarball=$cache/debootstrap-$codename-minbase-$icu.tar
  if [ ! -s "$tarball" ]; then
    rootfs=$(mktemp -d)
    say "debootstrap $codename (minbase with ca-certificates, $icu, libssl3) from $(mirror), cached as $tarball"
    debootstrap --variant=minbase --include="ca-certificates,$icu,libssl3" "$codename" "$rootfs" "$(mirror)" >/dev/null
    # The downloaded packages and lists are not part of an image.
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    mkdir -p "$cache"
    tar --numeric-owner -C "$rootfs" -cf "$tarball.part" .
    mv "$tarball.part" "$tarball"
    rm -rf "$rootfs"
  fi
  podman import --quiet "$tarball" "$base" >/dev/null
  say "imported $base from $tarball"
}

# The packages src/ restores (every project's obj/project.assets.json), as id/version under the machine's packages
# folder, for an SDK that restores offline.
package_root=${NUGET_PACKAGES:-$HOME/.nuget/packages}
package_dirs() {
  (cd "$repo" && dotnet restore src/Nodes.Cli/Nodes.Cli.csproj -v q >/dev/null) || die "dotnet restore src/Nodes.Cli failed on this machine"
  /usr/bin/python3 - "$repo" <<'EOF'
import glob, json, os, sys
dirs = set()
for assets in glob.glob(os.path.join(sys.argv[1], "src", "*", "obj", "project.assets.json")):
    a = json.load(open(assets))
    root = next(iter(a["packageFolders"])).rstrip("/")
    for key, lib in a["libraries"].items():
        if lib.get("type") == "package":
            dirs.add(os.path.join(root, lib["path"]))
    for fw in a["project"].get("frameworks", {}).values():
        for dep in fw.get("downloadDependencies", []):
            version = dep["version"].strip("[]").split(",")[0].strip()
            dirs.add(os.path.join(root, dep["name"].lower(), version.lower()))
for d in sorted(dirs):
    if os.path.isdir(d):
        print(os.path.relpath(d, root))
EOF
}

standin() {
  local name=$1 kind=$2 ctr label
  make_base
  case $kind in
    runtime)
      ctr=$(podman create --network none "$base" /bin/sh -c \
        'groupadd --gid 1654 app && useradd --uid 1654 --gid 1654 --create-home app && mkdir -p /usr/share/dotnet && ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet')
      podman start --attach "$ctr" >/dev/null
      # The ASP.NET Core runtime too: the aspnet image the Dockerfile runs on has it (the web view serves pages).
      tar --numeric-owner -C "$dotnet_root" -c dotnet host shared/Microsoft.NETCore.App shared/Microsoft.AspNetCore.App | podman cp - "$ctr:/usr/share/dotnet"
      podman commit --quiet --change 'ENV APP_UID=1654' --change 'ENV DOTNET_RUNNING_IN_CONTAINER=true' --change 'CMD ["bash"]' \
        --change "LABEL nodes.standin=$kind" "$ctr" "$name" >/dev/null
      ;;
    sdk)
      mapfile -t dirs < <(package_dirs)
      label=$(printf '%s\n' "${dirs[@]}" | sha256sum | cut -c1-16)
      ctr=$(podman create --network none "$base" /bin/sh -c '
        mkdir -p /usr/share/dotnet /root/.nuget/packages /root/.nuget/NuGet && ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet &&
        printf "%s\n" "<?xml version=\"1.0\" encoding=\"utf-8\"?>" "<configuration>" "  <packageSources>" "    <clear />" \
          "    <add key=\"packages-of-this-image\" value=\"/root/.nuget/packages\" />" "  </packageSources>" "</configuration>" > /root/.nuget/NuGet/NuGet.Config')
      podman start --attach "$ctr" >/dev/null
      tar --numeric-owner -C "$dotnet_root" -c . | podman cp - "$ctr:/usr/share/dotnet"
      # The packages folder is the only package source, so restore never asks the network for vulnerability data.
      tar --numeric-owner -C "$package_root" -c "${dirs[@]}" | podman cp - "$ctr:/root/.nuget/packages"
      podman commit --quiet --change 'ENV DOTNET_RUNNING_IN_CONTAINER=true' --change 'ENV DOTNET_NOLOGO=true' --change 'ENV DOTNET_CLI_TELEMETRY_OPTOUT=true' \
        --change 'CMD ["bash"]' --change "LABEL nodes.standin=$kind" --change "LABEL nodes.standin.content=$label" "$ctr" "$name" >/dev/null
      ;;
  esac
  podman rm "$ctr" >/dev/null
  say "made the stand-in $name ($kind: $codename with this machine's .NET$([ "$kind" = sdk ] && echo " and the ${#dirs[@]} packages src/ restores"))"
}

for from in $(awk 'toupper($1) == "FROM" { print $2 }' "$repo/deploy/Dockerfile" | sort -u); do
  case $from in
    */dotnet/sdk:*) kind=sdk ;;
    */dotnet/runtime:* | */dotnet/aspnet:*) kind=runtime ;;
    *) kind= ;;
  esac
  if podman image exists "$from"; then
    made=$(podman image inspect --format '{{ index .Labels "nodes.standin" }}' "$from")
    if [ "$made" = sdk ]; then
      # A stand-in SDK restores offline: it must carry every package src/ restores now.
      mapfile -t dirs < <(package_dirs)
      now=$(printf '%s\n' "${dirs[@]}" | sha256sum | cut -c1-16)
      if [ "$(podman image inspect --format '{{ index .Labels "nodes.standin.content" }}' "$from")" != "$now" ]; then
        say "$from: the packages src/ restores changed, making the stand-in again"
        podman rmi --force "$from" >/dev/null
        standin "$from" sdk
        continue
      fi
    fi
    say "$from: present${made:+ (the stand-in made here)}"
    continue
  fi
  [ -n "$kind" ] || die "$from is not present and no stand-in is known for it: podman pull $from"
  standin "$from" "$kind"
done

# 4. The image. A stand-in SDK carries every package the build restores, so nothing leaves the machine; the official
# SDK image restores from the package source, so it needs the network.
network=(--network none)
for from in $(awk 'toupper($1) == "FROM" { print $2 }' "$repo/deploy/Dockerfile" | sort -u); do
  case $from in
    */dotnet/sdk:*)
      [ "$(podman image inspect --format '{{ index .Labels "nodes.standin" }}' "$from")" = sdk ] || network=()
      ;;
  esac
done
say "podman build --format docker ${network[*]} --pull=never -f deploy/Dockerfile -t $image . (the docker format keeps the HEALTHCHECK)"
build_started=$(date +%s)
(cd "$repo" && podman build --format docker "${network[@]}" --pull=never --quiet -f deploy/Dockerfile -t "$image" . >/dev/null)
size=$(podman image inspect --format '{{ .Size }}' "$image")
say "built $image in $(( $(date +%s) - build_started )) s ($(( size / 1000000 )) MB); setup took $(( $(date +%s) - started )) s"

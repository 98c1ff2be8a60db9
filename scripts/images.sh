#!/usr/bin/env bash
# make images: build both images (collector and API) from this checkout.
#
# With a Docker engine (`docker info` answers): plain `docker build`, which pulls the base.
# Without one (these CI machines): no registry at all. The base named by the Dockerfiles' FROM
# (debian:<suite>-slim) is made with debootstrap from Debian's archive, cached under
# ~/.cache/kamo-images, imported under that exact name, and the two unchanged Dockerfiles are
# built with `buildah bud --pull=never` (chroot isolation, vfs storage, as root).
# The locked wheels are downloaded there once (hash-checked) and mounted into the build, so a
# second run neither downloads them again nor needs PyPI; buildah keeps its layers.
#
# Settings: KAMO_IMAGE_TAG (local), KAMO_IMAGE_CACHE (~/.cache/kamo-images),
# KAMO_BASE_MAX_AGE_DAYS (7: a week-old base is made again, for Debian's security updates),
# KAMO_IMAGE_ENGINE (auto, docker or buildah), KAMO_IMAGES ("collector api"),
# KAMO_ARCH (the host's; arm64 runs the build under qemu-user-static, see docs/raspberry-pi.md).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "images: $*" >&2; }

cache=${KAMO_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kamo-images}
max_age_days=${KAMO_BASE_MAX_AGE_DAYS:-7}
engine=${KAMO_IMAGE_ENGINE:-auto}
arch=${KAMO_ARCH:-$(dpkg --print-architecture 2>/dev/null || echo amd64)}
native=$(dpkg --print-architecture 2>/dev/null || echo amd64)
# Another architecture gets its own tag, so it never replaces the images the tests run.
if [ "$arch" = "$native" ]; then tag=${KAMO_IMAGE_TAG:-local}; else tag=${KAMO_IMAGE_TAG:-local-$arch}; fi
read -r -a images <<<"${KAMO_IMAGES:-collector api}"

# Both Dockerfiles must start from the same base: the one this script makes.
base=$(awk 'toupper($1) == "FROM" { print $2; exit }' Dockerfile.collector)
for name in "${images[@]}"; do
  first=$(awk 'toupper($1) == "FROM" { print $2; exit }' "Dockerfile.$name")
  if [ "$first" != "$base" ]; then
    say "Dockerfile.$name starts FROM $first, Dockerfile.collector FROM $base: they must match"
    exit 2
  fi
done

if [ "$engine" = docker ] || { [ "$engine" = auto ] && docker info >/dev/null 2>&1; }; then
  for name in "${images[@]}"; do
    say "docker build kamo-load-logger-$name:$tag"
    docker build -f "Dockerfile.$name" -t "kamo-load-logger-$name:$tag" .
  done
  exit 0
fi

for tool in debootstrap buildah podman; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    say "$tool is not installed (apt-get install debootstrap buildah podman runc), and no Docker engine answers"
    exit 2
  fi
done
if [ "$(id -u)" != 0 ]; then
  say "the buildah path runs as root (debootstrap and vfs storage); run it with sudo"
  exit 2
fi

# debian:trixie-slim -> suite trixie; the name as podman and buildah store it.
case "$base" in
  debian:*-slim) suite=${base#debian:}; suite=${suite%-slim} ;;
  *) say "FROM $base: only debian:<suite>-slim can be made with debootstrap"; exit 2 ;;
esac
stored_name="docker.io/library/$base"
[ "$arch" = "$native" ] || stored_name="localhost/kamo-base-$arch:$suite-slim"
storage=(--storage-driver vfs)
mirror=$(awk '$1 == "URIs:" { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
mirror=${mirror:-http://deb.debian.org/debian}

mkdir -p "$cache/base"
tarball="$cache/base/debian-$suite-slim-$arch.tar"

make_base() {
  local root
  root=$(mktemp -d "$cache/base/rootfs.XXXXXX")
  # Clean up a half-made root whatever happens, after anything debootstrap left mounted in it.
  trap 'awk -v r="$root/" '"'"'index($2, r) == 1 { print $2 }'"'"' /proc/mounts | sort -r | xargs -r umount -l; rm -rf "$root"' RETURN
  chmod 0755 "$root"  # mktemp made it 0700, and it becomes the image's /
  local foreign=()
  if [ "$arch" != "$native" ]; then
    foreign=(--arch "$arch" --foreign)
  fi
  say "debootstrap $suite ($arch) from $mirror"
  debootstrap --variant=minbase "${foreign[@]}" "$suite" "$root" "$mirror" >"$cache/base/debootstrap-$arch.log" 2>&1 \
    || { tail -20 "$cache/base/debootstrap-$arch.log" >&2; return 1; }
  if [ "${#foreign[@]}" -gt 0 ]; then
    cp "/usr/bin/qemu-$(qemu_name "$arch")-static" "$root/usr/bin/"
    chroot "$root" /debootstrap/debootstrap --second-stage >>"$cache/base/debootstrap-$arch.log" 2>&1 \
      || { tail -20 "$cache/base/debootstrap-$arch.log" >&2; return 1; }
    rm -f "$root/usr/bin/qemu-$(qemu_name "$arch")-static"
  fi
  # As in Debian's slim images: no documentation, the archive and its security updates.
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
  # apt removes what it downloaded after each install, as in Debian's official images.
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  rm -f "$root/etc/apt/sources.list"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/man/* \
    "$root"/usr/share/info/* "$root"/usr/share/locale/*
  find "$root/usr/share/doc" -mindepth 2 ! -name copyright -type f -delete 2>/dev/null || true
  tar --numeric-owner -C "$root" -cf "$tarball.part" .
  mv "$tarball.part" "$tarball"
}

qemu_name() {
  case "$1" in arm64) echo aarch64 ;; armhf) echo arm ;; *) echo "$1" ;; esac
}

if [ ! -s "$tarball" ] || [ -n "$(find "$tarball" -mtime "+$max_age_days")" ]; then
  make_base
else
  say "reusing $tarball (made $(date -r "$tarball" -u +%FT%TZ))"
fi

# Import only when the stored image is not this very tarball: a new import gets a new id,
# and that would throw away buildah's layer cache.
digest=$(sha256sum "$tarball" | cut -c1-64)
stored=$(podman "${storage[@]}" image inspect --format '{{ index .Labels "kamo.base.tarball" }}' \
  "$stored_name" 2>/dev/null || true)
if [ "$stored" != "$digest" ]; then
  say "importing the base as $stored_name"
  podman "${storage[@]}" import --arch "$arch" \
    --change "LABEL kamo.base.tarball=$digest" \
    --change "LABEL kamo.base.source=debootstrap $suite $mirror" \
    --change 'CMD ["bash"]' "$tarball" "$stored_name" >/dev/null
fi

# The host's CA bundle, for pip inside the build on networks that inspect TLS: mounted
# read-only for the build, never copied into an image.
ca=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}
ca_args=()
if [ -s "$ca" ]; then
  ca_args=(-v "$ca:/run/kamo-build-ca.crt:ro" --build-arg HOST_CA_BUNDLE=/run/kamo-build-ca.crt)
fi
# The locked wheels for the image's Python and platform, downloaded once; pip skips a file
# already there whose hash matches. Where one has no wheel (psycopg2 on armhf), the build
# fetches from PyPI itself and compiles.
declare -A python_of=([bookworm]=3.11 [trixie]=3.13)
declare -A platforms_of=([amd64]=x86_64 [arm64]=aarch64)
wheels="$cache/wheels/$suite-$arch"
wheel_args=()
if [ -n "${python_of[$suite]:-}" ] && [ -n "${platforms_of[$arch]:-}" ]; then
  machine=${platforms_of[$arch]}
  platform_args=()
  for policy in manylinux_2_28 manylinux_2_17 manylinux2014 manylinux1 manylinux_2_5; do
    platform_args+=(--platform "${policy}_$machine")
  done
  py=${python_of[$suite]}
  say "locked wheels for Python $py ($arch) into $wheels"
  mkdir -p "$wheels"
  "${PIP:-.venv/bin/pip}" download --quiet --disable-pip-version-check --require-hashes --no-deps \
    --only-binary=:all: --python-version "$py" --implementation cp "${platform_args[@]}" \
    -r requirements.lock -d "$wheels"
  wheel_args=(-v "$wheels:/run/kamo-wheels:ro" --build-arg PIP_WHEELS=/run/kamo-wheels)
fi
from_args=()
[ "$stored_name" = "docker.io/library/$base" ] || from_args=(--from "$stored_name")

bud() {
  # Docker format: the OCI format has no HEALTHCHECK, and buildah would drop it.
  BUILDAH_ISOLATION=chroot buildah "${storage[@]}" bud --pull=never --layers --format docker \
    --arch "$arch" "${from_args[@]}" "${ca_args[@]}" "${wheel_args[@]}" "$@" .
}
# Everything an image is made of: the base, the Dockerfile and the files it copies (as
# .dockerignore leaves them), this script. An image labelled with the same digest is current:
# buildah 1.28 would redo every step after COPY --from even then, minutes on vfs.
inputs_digest() {
  {
    echo "base $(podman "${storage[@]}" image inspect --format '{{.Id}}' "$stored_name") $arch"
    find "Dockerfile.$1" .dockerignore requirements.lock docker scripts shared collector api \
      -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -printf '%m %p\n' | sort
    find "Dockerfile.$1" .dockerignore requirements.lock docker scripts shared collector api \
      -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 | sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-64
}
stale=()
for name in "${images[@]}"; do
  want=$(inputs_digest "$name")
  have=$(podman "${storage[@]}" image inspect --format '{{ index .Labels "kamo.build.inputs" }}' \
    "localhost/kamo-load-logger-$name:$tag" 2>/dev/null || true)
  if [ "$want" = "$have" ]; then
    say "localhost/kamo-load-logger-$name:$tag is current (same inputs $want)"
  else
    stale+=("$name=$want")
  fi
done
if [ "${#stale[@]}" -gt 0 ]; then
  # The builder stage (the same in both Dockerfiles) gets a name, so the cleanup below keeps
  # its cached layers: the dependencies are installed again only when the lock or base change.
  say "buildah bud kamo-load-logger-builder:$tag ($arch)"
  bud -f Dockerfile.collector --target builder -t "localhost/kamo-load-logger-builder:$tag"
fi
for entry in "${stale[@]}"; do
  name=${entry%%=*}
  say "buildah bud kamo-load-logger-$name:$tag ($arch)"
  bud -f "Dockerfile.$name" --label "kamo.build.inputs=${entry#*=}" \
    -t "localhost/kamo-load-logger-$name:$tag"
done
# vfs stores every layer as a full copy: drop this project's untagged leftovers of earlier
# builds (they carry the base's label), or each build would keep a few GB more.
podman "${storage[@]}" image prune --force --filter label=kamo.base.tarball >/dev/null
say "ready: ${images[*]} as localhost/kamo-load-logger-<name>:$tag"

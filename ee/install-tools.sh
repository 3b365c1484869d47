#!/bin/sh
# The execution environment's command-line tools, pinned and checked before they are unpacked (execution-environment.yml
# runs this in its final stage): istioctl (the istioctl backend, the verification's proxy-status, remote_secret
# method=istioctl) and helm (multimesh_sail_operator.install, through kubernetes.core.helm).
#
# helm: its sha256 per architecture is pinned here (HELM_SHA256 for another HELM_VERSION). istioctl: checked against
# the .sha256 file of the same Istio release; pin it as well with ISTIOCTL_SHA256 (a build argument) once you have
# taken it from a trusted copy. The other variables exist for tests (tests/unit/test_packaging.py): where the files
# come from and go to (TOOLS_*). Nothing is installed unless every check passed.
set -eu

ISTIO_VERSION=${ISTIO_VERSION:-1.30.3}
HELM_VERSION=${HELM_VERSION:-v3.19.0}
ISTIO_RELEASES=${ISTIO_RELEASES:-https://github.com/istio/istio/releases/download}
HELM_RELEASES=${HELM_RELEASES:-https://get.helm.sh}
TOOLS_DEST=${TOOLS_DEST:-/usr/local/bin}
TOOLS_PROTOCOLS=${TOOLS_PROTOCOLS:-=https}
ISTIOCTL_SHA256=${ISTIOCTL_SHA256:-}

machine=${TOOLS_ARCH:-$(uname -m)}
case "$machine" in
  x86_64 | amd64)
    arch=amd64
    pinned_helm=a7f81ce08007091b86d8bd696eb4d86b8d0f2e1b9f6c714be62f82f96a594496 ;;
  aarch64 | arm64)
    arch=arm64
    pinned_helm=440cf7add0aee27ebc93fada965523c1dc2e0ab340d4348da2215737fc0d76ad ;;
  *)
    echo "install-tools: no pinned tools for architecture $machine (amd64 and arm64 only)" >&2
    exit 1 ;;
esac
# The pinned checksum is helm v3.19.0's; another version needs its own (HELM_SHA256).
if [ -z "${HELM_SHA256:-}" ]; then
  if [ "$HELM_VERSION" != v3.19.0 ]; then
    echo "install-tools: HELM_VERSION=$HELM_VERSION needs HELM_SHA256 (the pinned checksum is v3.19.0's)" >&2
    exit 1
  fi
  HELM_SHA256=$pinned_helm
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fetch() {  # URL FILE
  curl --fail --silent --show-error --location --proto "$TOOLS_PROTOCOLS" --proto-redir "$TOOLS_PROTOCOLS" --retry 3 -o "$2" "$1"
}

check() {  # FILE SHA256 WHAT
  if ! printf '%s' "$2" | grep -Eq '^[0-9a-f]{64}$'; then
    echo "install-tools: $3: no sha256 to check against (got '$2'): not installed" >&2
    exit 1
  fi
  found=$(sha256sum "$1" | cut -d' ' -f1)
  if [ "$found" != "$2" ]; then
    echo "install-tools: $3 has sha256 $found, expected $2: not installed" >&2
    exit 1
  fi
}

istioctl_tarball="istioctl-${ISTIO_VERSION}-linux-${arch}.tar.gz"
fetch "${ISTIO_RELEASES}/${ISTIO_VERSION}/${istioctl_tarball}" "$work/istioctl.tar.gz"
fetch "${ISTIO_RELEASES}/${ISTIO_VERSION}/${istioctl_tarball}.sha256" "$work/istioctl.sha256"
released=$(cut -d' ' -f1 "$work/istioctl.sha256")
check "$work/istioctl.tar.gz" "$released" "$istioctl_tarball (against the release's .sha256)"
if [ -n "$ISTIOCTL_SHA256" ]; then
  check "$work/istioctl.tar.gz" "$ISTIOCTL_SHA256" "$istioctl_tarball (against ISTIOCTL_SHA256)"
fi

helm_tarball="helm-${HELM_VERSION}-linux-${arch}.tar.gz"
fetch "${HELM_RELEASES}/${helm_tarball}" "$work/helm.tar.gz"
check "$work/helm.tar.gz" "$HELM_SHA256" "$helm_tarball"

tar -xzf "$work/istioctl.tar.gz" -C "$work" istioctl
tar -xzf "$work/helm.tar.gz" -C "$work" "linux-${arch}/helm"
install -m 0755 "$work/istioctl" "$TOOLS_DEST/istioctl"
install -m 0755 "$work/linux-${arch}/helm" "$TOOLS_DEST/helm"
echo "install-tools: istioctl ${ISTIO_VERSION} and helm ${HELM_VERSION} (linux-${arch}) in $TOOLS_DEST"

#!/usr/bin/env bash
# Installs the Debian packages Subword's tests and tools need (run as root,
# or with sudo). Idempotent: packages already present are skipped quickly.
#   chromium-headless-shell   drives the real VS Code workbench in the integration tests
#   libkrb5-dev pkg-config build-essential python3
#                             let code-server's native modules build offline
#   python3-torch python3-onnx python3-numpy python3-regex libopenblas0-pthread
#                             the model training pipeline (tools/train; smoke run in CI)
set -euo pipefail
PACKAGES=(chromium-headless-shell libkrb5-dev pkg-config build-essential python3
  python3-torch python3-onnx python3-numpy python3-regex libopenblas0-pthread)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-system: all Debian packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup-system: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"

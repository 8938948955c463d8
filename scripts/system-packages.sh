#!/usr/bin/env bash
# The Debian packages Hangar's tests need, in one list: .ci/run installs them, `npm test` checks them.
#   scripts/system-packages.sh            prints the missing ones (nothing when all are there)
#   scripts/system-packages.sh --install  installs the missing ones with apt-get (as root)
# chromium, fonts-dejavu-core: the browser suite (Playwright drives Debian's build; no downloads).
# bubblewrap, socat: the local sandbox driver. python3-venv: pip requirements in sandboxes.
# curl, git: repositories cloned into sandboxes, and the tests' own requests from inside them.
set -euo pipefail
PACKAGES=(curl git chromium fonts-dejavu-core bubblewrap socat python3-venv)

command -v dpkg >/dev/null || exit 0 # not Debian: nothing to check this way
missing=()
for pkg in "${PACKAGES[@]}"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
((${#missing[@]})) || exit 0
if [[ "${1:-}" == "--install" ]]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
else
  echo "${missing[*]}"
fi

#!/usr/bin/env bash
# Installs what Strata needs from Debian's packages, and says what it installs.
#   deploy/install-deps.sh run    ffmpeg (transcoding)
#   deploy/install-deps.sh web    Node.js and npm (building the web UI)
#   deploy/install-deps.sh test   ffmpeg and Chromium (the browser tests)
set -euo pipefail

want=()
need() { # need COMMAND PACKAGE
	command -v "$1" >/dev/null 2>&1 || want+=("$2")
}
for what in "$@"; do
	case "$what" in
	run) need ffmpeg ffmpeg; need ffprobe ffmpeg ;;
	web) need node nodejs; need npm npm ;;
	test) need ffmpeg ffmpeg; need ffprobe ffmpeg; need chromium chromium; need gcc gcc ;; # gcc: go test -race needs cgo
	*) echo "install-deps: unknown set $what" >&2; exit 2 ;;
	esac
done
[ ${#want[@]} -eq 0 ] && exit 0

# Unique, in order.
pkgs=$(printf '%s\n' "${want[@]}" | awk '!seen[$0]++' | tr '\n' ' ')
echo "Strata needs these Debian packages, which are missing: $pkgs"
sudo=""
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null || { echo "install them as root: apt-get install -y $pkgs" >&2; exit 1; }
	sudo=sudo
fi
if ! command -v apt-get >/dev/null; then
	echo "no apt-get here: install $pkgs with your system's package manager" >&2
	exit 1
fi
echo "Installing: $pkgs"
$sudo apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $pkgs

#!/usr/bin/env bash
# deps.sh - install recgen's build and run-time dependencies from Debian's
# packages, only those that are missing, so a second run is fast and quiet.
#
# Everything recgen needs on a fresh Debian 12 machine comes from here (and,
# for the Python parts, from tools/venv.sh); nothing is downloaded elsewhere.
set -euo pipefail

packages=(
	postgresql-15                 # the server (private cluster runs a copy of it)
	postgresql-server-dev-15      # headers, pg_config and PGXS
	postgresql-contrib            # pgbench for the benchmarks
	postgresql-15-pgtap           # pgTAP extension
	postgresql-15-cron            # pg_cron: the minute timer of scheduled campaigns
	libtap-parser-sourcehandler-pgtap-perl  # pg_prove
	libcurl4-openssl-dev          # HTTP client for the LLM
	libssl-dev                    # SHA-256 of rendered media (recgen-render)
	libcjson-dev                  # JSON parsing
	curl                          # health check of the local LLM server
	espeak-ng libespeak-ng-dev    # text to speech for videos
	ffmpeg                        # video composition
	fonts-dejavu-core             # subtitle and watermark font
	clang-format                  # make format
	valgrind                      # the memcheck test section
	gcc make python3-venv         # toolchain and the venv module
)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed'; then
		missing+=("$p")
	fi
done

if ((${#missing[@]} == 0)); then
	exit 0
fi

echo "recgen: installing missing Debian packages: ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
	SUDO=sudo
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
# The private cluster is started by tools/cluster.sh; Debian's own default
# cluster is not needed, so do not let the package create one.
if [[ ! -e /etc/postgresql-common/createcluster.conf ]] ||
	! grep -q '^create_main_cluster *= *false' /etc/postgresql-common/createcluster.conf; then
	$SUDO mkdir -p /etc/postgresql-common
	echo 'create_main_cluster = false' | $SUDO tee -a /etc/postgresql-common/createcluster.conf >/dev/null
fi
# several checkouts may install at once: wait for the package lock
APT_LOCK=(-o DPkg::Lock::Timeout=900)
$SUDO apt-get "${APT_LOCK[@]}" update -qq
$SUDO apt-get "${APT_LOCK[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "recgen: Debian packages installed"

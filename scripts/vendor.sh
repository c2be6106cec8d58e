#!/usr/bin/env bash
# Copy the browser libraries pinned in package.json (+ package-lock.json) into static/vendor/.
# static/vendor/ is committed, so a clone serves the pages without npm or any CDN; run this only
# after changing a version in package.json, then commit package-lock.json and static/vendor/.
#   scripts/vendor.sh            npm ci from the lock file (or npm install when there is none yet)
#   scripts/vendor.sh --check    fail if static/vendor/ differs from what the lock file gives
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'vendor: %s\n' "$*" >&2; exit 1; }

command -v npm >/dev/null || die "npm is not installed (apt-get install npm); it is needed only to change vendored versions."

check=0
[ "${1:-}" = "--check" ] && check=1

say "Installing the pinned packages into node_modules/"
# --ignore-scripts: we copy prebuilt dist files, nothing needs to run at install time.
if [ -f package-lock.json ]; then
  npm ci --ignore-scripts --no-audit --no-fund
else
  npm install --ignore-scripts --no-audit --no-fund
fi

out=static/vendor
[ $check = 1 ] && out=$(mktemp -d)

copy() {  # copy <package> <destination folder> <files relative to the package>...
  local package=$1 dest=$out/$2
  shift 2
  mkdir -p "$dest"
  for file in "$@"; do
    [ -f "node_modules/$package/$file" ] || die "node_modules/$package/$file is missing; did the package change its layout?"
    cp "node_modules/$package/$file" "$dest/$(basename "$file")"
  done
  local version
  version=$(node -p "require('./node_modules/$package/package.json').version")
  printf '%s %s\n' "$package" "$version" > "$dest/VERSION"
  say "Copied $package $version to $dest/"
}

# Licence files travel with the code they cover.
copy maplibre-gl maplibre-gl dist/maplibre-gl.js dist/maplibre-gl.css LICENSE.txt
copy echarts echarts dist/echarts.min.js LICENSE NOTICE licenses/LICENSE-d3

if [ $check = 1 ]; then
  diff -r "$out" static/vendor >/dev/null || { rm -rf "$out"; die "static/vendor/ is out of date: run scripts/vendor.sh and commit."; }
  rm -rf "$out"
  say "static/vendor/ matches package-lock.json"
fi

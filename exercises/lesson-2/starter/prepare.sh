#!/bin/sh
# Lesson 2: gives this project the two folders a real one has but the course cannot ship
# you: the dependencies npm would have installed (node_modules/) and a Git history (.git/).
set -eu
cd "$(dirname "$0")"
if [ -d node_modules ] && [ -d .git ]; then
  echo "Already prepared: node_modules/ and .git/ are here."
  exit 0
fi
rm -rf node_modules .git

# Look-alikes of what npm installs: many small packages, and one big platform binary,
# as bundlers and compilers ship them.
i=1
while [ "$i" -le 150 ]; do
  package="node_modules/package-$i"
  mkdir -p "$package/lib"
  printf '{ "name": "package-%s", "version": "1.0.0", "main": "lib/index.js" }\n' "$i" > "$package/package.json"
  for part in index util parse format; do
    yes "module.exports.$part = function $part(value) { return value; };" | head -c 6000 > "$package/lib/$part.js"
  done
  i=$((i + 1))
done
mkdir -p node_modules/@bundler/linux-x64/bin
head -c 20000000 /dev/urandom > node_modules/@bundler/linux-x64/bin/bundler
chmod +x node_modules/@bundler/linux-x64/bin/bundler

# A Git history of the project: .gitignore keeps node_modules and the secrets out of it.
git -c init.defaultBranch=main init -q
git add -A
git -c user.name='Layerlab' -c user.email='course@layerlab.invalid' commit -qm 'Status page 1.1.0'

echo "Prepared: node_modules/ ($(du -sh node_modules | cut -f1)) and .git/ ($(du -sh .git | cut -f1))."

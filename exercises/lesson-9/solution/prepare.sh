#!/bin/sh
# Lesson 9: sets up the team's registry as you find it on your first day. It starts the
# registry on localhost:5000 (the one from the lesson, if it runs), pushes release 1 of the
# team's base image as team/base:stable, notes its digest in signed-off.txt, then pushes
# release 2 under the same tag. Run it once: ./prepare.sh
set -eu
cd "$(dirname "$0")"

if ! curl -fs http://localhost:5000/v2/ >/dev/null 2>&1; then
  if docker container inspect registry >/dev/null 2>&1; then
    docker start registry >/dev/null
  else
    docker run -d --name registry -p 5000:5000 registry:2 >/dev/null
  fi
  tries=0
  until curl -fs http://localhost:5000/v2/ >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -gt 50 ]; then
      echo "The registry on localhost:5000 does not answer; see: docker logs registry" >&2
      exit 1
    fi
    sleep 0.2
  done
fi

# Each release is busybox plus one file; a local tag keeps each one for the checks.
release() {
  printf 'FROM busybox:latest\nCOPY team-release /etc/team-release\n' |
    docker build -q -t "lesson-9-release-$1" -t localhost:5000/team/base:stable -f- "releases/$1" >/dev/null
  docker push -q localhost:5000/team/base:stable >/dev/null
}

release 1
docker image inspect --format '{{index .RepoDigests 0}}' lesson-9-release-1 >signed-off.txt
release 2
# Your copy of the tag goes, as on a fresh machine: the registry is where the team's images live.
docker image rm localhost:5000/team/base:stable >/dev/null

echo "Prepared: localhost:5000/team/base:stable is release 2; the release the team signed off is $(cat signed-off.txt)."

# The solution's one change, made here because the digest is new on every machine: the FROM
# line names the signed-off release by its digest (a learner copies it from signed-off.txt).
sed -i "s|^FROM .*|FROM $(cat signed-off.txt)|" Dockerfile

#!/bin/sh
# greet: says hello to everyone named on its command line.
#
#   greet NAME...    prints "hello, NAME..." and exits
#   greet --serve    answers HTTP on port 8080 with a greeting, until stopped
#
# With GREET_TOKEN set, greet would also post each greeting to the team chat.
# The sandbox is offline, so it only says so, on standard error.
set -eu

if [ "$#" -eq 0 ]; then
  echo "usage: greet NAME... | greet --serve" >&2
  exit 64
fi

if [ "$1" = "--serve" ]; then
  mkdir -p /tmp/greet
  echo "hello, web" > /tmp/greet/index.html
  echo "greet: serving on port 8080" >&2
  exec httpd -f -p 8080 -h /tmp/greet
fi

echo "hello, $*"
if [ -n "${GREET_TOKEN:-}" ]; then
  echo "greet: would post to the team chat with a ${#GREET_TOKEN}-character token" >&2
fi

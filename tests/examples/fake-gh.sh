#!/usr/bin/env bash
# A stand-in for the GitHub CLI with just the calls the example workflows make, keeping pull
# request comments, issues and labels as files under $FAKE_GH_STATE and logging every call (one
# line, arguments separated by tabs) to $FAKE_GH_STATE/calls.log. Like gh, it refuses to run
# without a token and fails on what GitHub would refuse (an unknown comment, a missing label).
set -euo pipefail
state="${FAKE_GH_STATE:?}"
(IFS=$'\t'; printf '%s\n' "$*") >> "$state/calls.log"
if [ -z "${GH_TOKEN:-}" ]; then
  echo "gh: To use GitHub CLI in a GitHub Actions workflow, set the GH_TOKEN environment variable." >&2
  exit 4
fi
mkdir -p "$state/comments" "$state/issues" "$state/labels"

next_id() { # directory
  local n=1
  while [ -e "$1/$n" ]; do n=$((n + 1)); done
  echo "$n"
}

cmd="$1"
shift
case "$cmd" in
  api)
    method=GET path="" body="" jq=""
    while [ $# -gt 0 ]; do
      case "$1" in
        --method) method="$2"; shift 2 ;;
        -F | --field) body="${2#body=@}"; shift 2 ;;
        --jq) jq="$2"; shift 2 ;;
        --paginate) shift ;;
        *) path="$1"; shift ;;
      esac
    done
    case "$method $path" in
      "GET repos/"*/issues/*/comments)
        # The workflow's filter: ids of the comments whose body starts with a marker.
        [[ "$jq" =~ startswith\(\"([^\"]*)\"\) ]] || { echo "fake gh: unexpected --jq $jq" >&2; exit 1; }
        marker="${BASH_REMATCH[1]}"
        for f in "$state"/comments/*; do
          [ -e "$f" ] || continue
          if [[ "$(head -n 1 "$f")" == "$marker"* ]]; then basename "$f"; fi
        done
        ;;
      "POST repos/"*/issues/*/comments)
        id=$(next_id "$state/comments")
        cp "$body" "$state/comments/$id"
        echo "{\"id\": $id}"
        ;;
      "PATCH repos/"*/issues/comments/*)
        id="${path##*/}"
        [ -e "$state/comments/$id" ] || { echo "gh: Not Found (HTTP 404)" >&2; exit 1; }
        cp "$body" "$state/comments/$id"
        echo "{\"id\": $id}"
        ;;
      *) echo "fake gh: unexpected api call: $method $path" >&2; exit 1 ;;
    esac
    ;;
  label)
    [ "$1" = create ] || { echo "fake gh: unexpected label command $1" >&2; exit 1; }
    touch "$state/labels/$2"
    ;;
  issue)
    sub="$1"
    shift
    number="" title="" label="" body="" comment="" st=""
    while [ $# -gt 0 ]; do
      case "$1" in
        --title) title="$2"; shift 2 ;;
        --label) label="$2"; shift 2 ;;
        --body-file) body="$2"; shift 2 ;;
        --comment) comment="$2"; shift 2 ;;
        --state) st="$2"; shift 2 ;;
        --json | --jq) shift 2 ;;
        *) number="$1"; shift ;;
      esac
    done
    case "$sub" in
      list)
        [ "$st" = open ] || { echo "fake gh: list without --state open" >&2; exit 1; }
        for d in "$state"/issues/*; do
          [ -e "$d" ] || continue
          if [ "$(cat "$d/state")" = open ] && [ "$(cat "$d/label")" = "$label" ]; then
            basename "$d"
            break
          fi
        done
        ;;
      create)
        [ -e "$state/labels/$label" ] || { echo "could not add label: '$label' not found" >&2; exit 1; }
        n=$(next_id "$state/issues")
        mkdir -p "$state/issues/$n"
        echo open > "$state/issues/$n/state"
        printf '%s' "$label" > "$state/issues/$n/label"
        printf '%s' "$title" > "$state/issues/$n/title"
        cp "$body" "$state/issues/$n/body"
        echo "https://github.com/$GITHUB_REPOSITORY/issues/$n"
        ;;
      edit)
        [ -d "$state/issues/$number" ] || { echo "GraphQL: Could not resolve to an issue" >&2; exit 1; }
        cp "$body" "$state/issues/$number/body"
        ;;
      close)
        [ -d "$state/issues/$number" ] || { echo "GraphQL: Could not resolve to an issue" >&2; exit 1; }
        echo closed > "$state/issues/$number/state"
        printf '%s\n' "$comment" >> "$state/issues/$number/comments"
        ;;
      *) echo "fake gh: unexpected issue command $sub" >&2; exit 1 ;;
    esac
    ;;
  *) echo "fake gh: unexpected command $cmd" >&2; exit 1 ;;
esac

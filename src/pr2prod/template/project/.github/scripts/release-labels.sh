#!/usr/bin/env bash
# The bump level asked by the merged PR's labels, validated, into $GITHUB_OUTPUT as `labels=`.
# Label names are outside input: they are read as data, never evaluated, and only the exact
# names `release:patch`, `release:minor`, `release:major` pass on. Another `release:` label
# (a typo, or a crafted name) stops the release; labels outside `release:` are ignored.
# On GitHub the labels come from `gh api` (needs GH_TOKEN, REPO, SHA); under act (ACT set) from
# PR2PROD_ACT_LABELS, one name per line, since act has no GitHub API to ask.
set -euo pipefail
if [ -n "${ACT:-}" ]; then
  names=${PR2PROD_ACT_LABELS:-}
else
  names=$(gh api "repos/$REPO/commits/$SHA/pulls" --jq '.[].labels[].name')
fi
levels=()
while IFS= read -r name; do
  case "$name" in
    release:patch | release:minor | release:major) levels+=("$name") ;;
    release:*)
      printf 'label %q is not one of release:patch, release:minor, release:major\n' "$name" >&2
      exit 1
      ;;
    *) ;;
  esac
done <<<"$names"
labels=$(IFS=,; printf '%s' "${levels[*]}")
printf 'release labels: %s\n' "${labels:-none}"
printf 'labels=%s\n' "$labels" >>"$GITHUB_OUTPUT"

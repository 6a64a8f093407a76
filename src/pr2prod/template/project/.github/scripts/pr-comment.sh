#!/usr/bin/env bash
# Create or update the ONE pr2prod report comment on a pull request.
# The comment is found by the hidden marker the report starts with.
# Usage: pr-comment.sh OWNER/REPO PR_NUMBER REPORT.md   (needs GH_TOKEN)
set -euo pipefail
repo=$1 pr=$2 body_file=$3
marker='<!-- pr2prod-report -->'
id=$(gh api --paginate "repos/$repo/issues/$pr/comments" \
  --jq ".[] | select(.body | startswith(\"$marker\")) | .id" | head -1)
if [ -n "$id" ]; then
  gh api --method PATCH "repos/$repo/issues/comments/$id" -F "body=@$body_file" >/dev/null
  echo "updated comment $id"
else
  gh api --method POST "repos/$repo/issues/$pr/comments" -F "body=@$body_file" >/dev/null
  echo "created a comment"
fi

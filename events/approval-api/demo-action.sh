#!/bin/sh
# The demo's on-prem action (EXECUTOR=command): what a site's runbook script would do
# with an approved action. The parameters arrive as JSON on stdin; the request id is
# an idempotency key for the real thing.
params=$(cat)
echo "done: $APPROVAL_ACTION for issue $APPROVAL_ISSUE_ID with $params (request $APPROVAL_REQUEST_ID)"

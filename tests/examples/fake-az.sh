#!/usr/bin/env bash
# A stand-in for the Azure CLI as the AzureCLI@2 task leaves it: signed in through the service
# connection. It answers `az account get-access-token` as az does (with $FAKE_AZ_TOKEN) and logs
# every call to $FAKE_AZ_LOG.
set -euo pipefail
printf '%s\n' "$*" >> "${FAKE_AZ_LOG:?}"
case "$*" in
  "account get-access-token -o json --scope https://ai.azure.com/.default"*)
    cat <<JSON
{
  "accessToken": "${FAKE_AZ_TOKEN:?}",
  "expiresOn": "2099-01-01 00:00:00.000000",
  "expires_on": 4070908800,
  "subscription": "00000000-0000-0000-0000-000000000000",
  "tenant": "00000000-0000-0000-0000-000000000000",
  "tokenType": "Bearer"
}
JSON
    ;;
  *)
    echo "ERROR: fake az: unexpected arguments: $*" >&2
    exit 2
    ;;
esac

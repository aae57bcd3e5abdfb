#!/bin/sh
# The NONE flow from the command line: start, play the device, ask unifyStatus, bind with an API key.
# Run: GATEWAY_API_KEY=<the key npm start printed> sh examples/curl-walkthrough.sh   (needs curl, jq)
set -eu
G=${GATEWAY_URL:-http://127.0.0.1:4000/graphql}
E=${G%/graphql}/prove-emulator
KEY=${GATEWAY_API_KEY:?set GATEWAY_API_KEY to one of GATEWAY_API_KEYS, or the development key npm start prints}
gql() { # gql '<query>' '<variables>' [auth header]
  jq -n --arg q "$1" --argjson v "$2" '{query: $q, variables: $v}' |
    curl -sf "$G" -H 'content-type: application/json' ${3:+-H "$3"} --data-binary @-
}

START=$(gql 'mutation($i: StartUnifyInput!) { startUnify(input: $i) {
  ... on StartUnifyPayload { authToken flow { id state } } ... on Error { code message } } }' \
  '{"i": {"possessionType": "NONE", "phoneNumber": "2001004015"}}')
FLOW=$(echo "$START" | jq -r .data.startUnify.flow.id)
TOKEN=$(echo "$START" | jq -r .data.startUnify.authToken)
echo "started: $(echo "$START" | jq -r .data.startUnify.flow.state)"

# The device (the emulator plays Prove's client SDK), then the AuthFinishStep's status query.
curl -sf "$E/sim/authenticate" -H 'content-type: application/json' \
  -d "{\"authToken\":\"$TOKEN\"}" | jq -r '"device: " + .result'
gql 'query($id: ID!) { unifyStatus(flowId: $id) { ... on UnifyStatusPayload { flow { state } } } }' \
  "{\"id\": \"$FLOW\"}" | jq -r '"status: " + .data.unifyStatus.flow.state'

# Your own possession check passed: bind, from your backend, with an API key.
gql 'mutation($i: BindPhoneInput!) { bindPhone(input: $i) {
  __typename ... on BindPhonePayload { flow { state } } ... on Error { code message } } }' \
  "{\"i\": {\"flowId\": \"$FLOW\", \"phoneNumber\": \"2001004015\"}}" "authorization: Bearer $KEY" |
  jq -r '"bind: " + (.data.bindPhone.flow.state // .data.bindPhone.message)'

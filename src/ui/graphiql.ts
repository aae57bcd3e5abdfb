import type { GraphiQLOptions } from 'graphql-yoga';

/**
 * GraphiQL at /graphql (development only): served from the installed @graphql-yoga/render-graphiql
 * (no CDN: machines here have no internet), subscriptions over graphql-ws, and a walkthrough of a
 * whole flow preloaded. The renderer is imported on first use: it is 9 MB of inlined JavaScript
 * that production, where GraphiQL is off, never loads.
 */

export const GRAPHIQL_WALKTHROUGH = /* GraphQL */ `# unify-gateway: a whole Prove Unify flow, step by step.
# Pick an operation with the ▶ button's menu. Variables are in the Variables pane below.
# The status page at / plays the same flow with buttons.
#
# 1. StartMobile (or StartDesktop / StartNone): copy flow.id into "flowId" in Variables,
#    and keep authToken: it is what the Prove client SDK on the device receives.
# 2. Watch: the flow as it stands, then every change, live over graphql-ws (WebSocket).
#    Leave it running in its own tab (+ above) while you do the next steps.
# 3. Play the device. With the embedded emulator, from a terminal:
#      curl -s localhost:4000/prove-emulator/sim/authenticate -H 'content-type: application/json' \\
#        -d '{"authToken":"<authToken>","otp":"1234"}'          # MOBILE (SMS OTP 1234 passes)
#        -d '{"authToken":"<authToken>","instantLink":true}'    # DESKTOP (the person taps the link)
#        -d '{"authToken":"<authToken>"}'                       # NONE
#    Add "deviceId":"<a deviceId from a VERIFIED flow>" to present that Prove Key.
# 4. Status: what the front end asks when the SDK's AuthFinishStep fires. Ask only then:
#    asked earlier, Prove ends the flow as failed (reason 9100). Watch shows the change.
#    - MOBILE/DESKTOP: VERIFIED (MOBILE also gives the device's deviceId, its Prove Key).
#    - 9101 (ProveKeyMismatchError): the device's Prove Key holds another number
#      (try a deviceId from a 2001004014 flow on 2001004015): StartMobile again with rebind: true.
#    - NONE: POSSESSION_REQUIRED. Do your own possession check, then step 5.
# 5. Bind (NONE only, trusted callers only): put {"Authorization": "Bearer <one of GATEWAY_API_KEYS>"}
#    in the Headers pane, then run Bind: BOUND.
# Flow reads the stored state without asking Prove.
# Sandbox numbers: 2001004014, 2001004015 (full flows), 2001004018 (passes with no device step).

mutation StartMobile {
  startUnify(input: { possessionType: MOBILE, phoneNumber: "2001004014", rebind: false }) {
    __typename
    ... on StartUnifyPayload { authToken flow { id state expiresAt } }
    ... on Error { code message }
  }
}

mutation StartDesktop {
  startUnify(input: { possessionType: DESKTOP, phoneNumber: "2001004014", finalTargetUrl: "https://example.com/done" }) {
    __typename
    ... on StartUnifyPayload { authToken flow { id state expiresAt } }
    ... on Error { code message }
  }
}

mutation StartNone {
  startUnify(input: { possessionType: NONE, phoneNumber: "2001004015" }) {
    __typename
    ... on StartUnifyPayload { authToken flow { id state expiresAt } }
    ... on Error { code message }
  }
}

subscription Watch($flowId: ID!) {
  unifyStatus(flowId: $flowId) {
    __typename
    ... on UnifyStatusPayload { flow { state deviceId updatedAt expiresAt } }
    ... on ProveKeyMismatchError { upstreamCode rebindRequired message }
    ... on PossessionFailedError { failureReasons { code description } }
    ... on Error { code message }
  }
}

query Status($flowId: ID!) {
  unifyStatus(flowId: $flowId) {
    __typename
    ... on UnifyStatusPayload { flow { state deviceId phoneNumber failureReasons { code description } } }
    ... on ProveKeyMismatchError { upstreamCode rebindRequired message }
    ... on PossessionFailedError { failureReasons { code description } }
    ... on Error { code message }
  }
}

mutation Bind($flowId: ID!, $phoneNumber: String!) {
  bindPhone(input: { flowId: $flowId, phoneNumber: $phoneNumber }) {
    __typename
    ... on BindPhonePayload { flow { state deviceId } }
    ... on BindNotAllowedError { state possessionType }
    ... on Error { code message }
  }
}

query Flow($flowId: ID!) {
  flow(id: $flowId) { id possessionType state phoneNumber deviceId failureReasons { code description } createdAt expiresAt }
}
`;

const WALKTHROUGH_VARIABLES = JSON.stringify({ flowId: 'paste flow.id here', phoneNumber: '2001004015' }, null, 2);

export function graphiqlOptions(): GraphiQLOptions {
  const options: GraphiQLOptions & { variables: string } = {
    title: 'unify-gateway',
    subscriptionsProtocol: 'WS',
    defaultQuery: GRAPHIQL_WALKTHROUGH,
    defaultTabs: [{ query: GRAPHIQL_WALKTHROUGH, variables: WALKTHROUGH_VARIABLES }],
    // Yoga's GraphiQL hands `variables` to the editor as its initial content (the tab's own
    // variables do not reach the editor in this version); not in GraphiQLOptions' type, hence the extra field.
    variables: WALKTHROUGH_VARIABLES,
    defaultEditorToolsVisibility: 'variables',
  };
  return options;
}

/** Renders GraphiQL from the installed bundle, loading it on first use. */
export const renderGraphiQL = async (options: GraphiQLOptions): Promise<string> =>
  (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options);

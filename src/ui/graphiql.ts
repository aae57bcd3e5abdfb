import type { GraphiQLOptions } from 'graphql-yoga';
import { renderGraphiQLPage } from './graphiql-assets.js';

/**
 * GraphiQL at /graphql (development only): served from the installed @graphql-yoga/render-graphiql
 * as separate compressed assets (src/ui/graphiql-assets.ts; no CDN), subscriptions over graphql-ws,
 * and a walkthrough of a whole flow preloaded. Its lines fit the query editor of a laptop-sized
 * window (38 columns at 1100 px, GraphiQL splits the width with the results); the page puts its own
 * origin where the curl lines say __GATEWAY_ORIGIN__.
 */

/** Columns the query editor shows at 1100 px without scrolling sideways (checked in Chromium). */
export const WALKTHROUGH_WIDTH = 38;

export const GRAPHIQL_WALKTHROUGH = /* GraphQL */ `# unify-gateway: a whole Prove Unify
# flow, step by step. Pick an
# operation in the ▶ button's menu;
# variables are in the Variables pane
# below. The status page at / plays
# the same with buttons.
#
# 1. StartMobile (or StartDesktop,
#    StartNone): copy flow.id into
#    "flowId" in Variables, and keep
#    authToken: the Prove client SDK
#    on the device receives it.
# 2. Watch: the flow as it stands,
#    then every change, live over
#    graphql-ws. Leave it running in
#    its own tab (+ above) for the
#    next steps.
# 3. Play the device. With the
#    embedded emulator, from a
#    terminal:
# E=__GATEWAY_ORIGIN__
# S=$E/prove-emulator/sim
# curl -s $S/authenticate \\
#  -H content-type:application/json \\
#  -d '{"authToken":"<authToken>",
#       "otp":"1234"}'
#    MOBILE: "otp":"1234" (the SMS
#    code); DESKTOP:
#    "instantLink":true instead; NONE:
#    only the authToken. Add
#    "deviceId":"<a VERIFIED flow's
#    deviceId>" to present its Prove
#    Key.
# 4. Status: what the front end asks
#    when the SDK's AuthFinishStep
#    fires. Ask only then: asked
#    earlier, Prove ends the flow as
#    failed (reason 9100).
#    - MOBILE, DESKTOP: VERIFIED
#      (MOBILE also gives deviceId,
#      its Prove Key)
#    - 9101, ProveKeyMismatchError:
#      the device's key holds another
#      number (a 2001004014 flow's
#      deviceId on 2001004015):
#      StartMobile again with rebind:
#      true.
#    - NONE: POSSESSION_REQUIRED. Do
#      your own possession check, then
#      5.
# 5. Bind (NONE only, trusted
#    callers): in the Headers pane put
#    {"Authorization":
#      "Bearer <key>"}
#    (npm start prints a development
#    key), then run Bind: BOUND.
# Flow reads the stored state without
# asking Prove. Sandbox numbers:
# 2001004014 and 2001004015 (full
# flows), 2001004018 (VERIFIED with no
# device step).

mutation StartMobile {
  startUnify(input: {
    possessionType: MOBILE
    phoneNumber: "2001004014"
    rebind: false
  }) {
    __typename
    ... on StartUnifyPayload {
      authToken
      flow { id state expiresAt }
    }
    ... on Error { code message }
  }
}

mutation StartDesktop {
  startUnify(input: {
    possessionType: DESKTOP
    phoneNumber: "2001004014"
    finalTargetUrl: "https://a.test"
  }) {
    __typename
    ... on StartUnifyPayload {
      authToken
      flow { id state expiresAt }
    }
    ... on Error { code message }
  }
}

mutation StartNone {
  startUnify(input: {
    possessionType: NONE
    phoneNumber: "2001004015"
  }) {
    __typename
    ... on StartUnifyPayload {
      authToken
      flow { id state expiresAt }
    }
    ... on Error { code message }
  }
}

subscription Watch($flowId: ID!) {
  unifyStatus(flowId: $flowId) {
    __typename
    ... on UnifyStatusPayload {
      flow {
        state deviceId
        updatedAt expiresAt
      }
    }
    ... on ProveKeyMismatchError {
      upstreamCode rebindRequired
      message
    }
    ... on PossessionFailedError {
      failureReasons {
        code description
      }
    }
    ... on Error { code message }
  }
}

query Status($flowId: ID!) {
  unifyStatus(flowId: $flowId) {
    __typename
    ... on UnifyStatusPayload {
      flow {
        state deviceId phoneNumber
        failureReasons {
          code description
        }
      }
    }
    ... on ProveKeyMismatchError {
      upstreamCode rebindRequired
      message
    }
    ... on PossessionFailedError {
      failureReasons {
        code description
      }
    }
    ... on Error { code message }
  }
}

mutation Bind(
  $flowId: ID!
  $phoneNumber: String!
) {
  bindPhone(input: {
    flowId: $flowId
    phoneNumber: $phoneNumber
  }) {
    __typename
    ... on BindPhonePayload {
      flow { state deviceId }
    }
    ... on BindNotAllowedError {
      state possessionType
    }
    ... on Error { code message }
  }
}

query Flow($flowId: ID!) {
  flow(id: $flowId) {
    id possessionType state
    phoneNumber deviceId
    createdAt expiresAt
    failureReasons {
      code description
    }
  }
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

/** The page yoga serves a browser at /graphql: small, naming its assets (src/ui/graphiql-assets.ts). */
export const renderGraphiQL = (options: GraphiQLOptions): Promise<string> => renderGraphiQLPage(options);

/* eslint-disable */
import * as types from './graphql.js';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "fragment PageFlow on UnifyFlow {\n  id\n  possessionType\n  state\n  phoneNumber\n  deviceId\n  failureReasons {\n    code\n    description\n  }\n  expiresAt\n  updatedAt\n}\n\nfragment PageError on Error {\n  __typename\n  code\n  message\n  ... on ProveKeyMismatchError {\n    upstreamCode\n    rebindRequired\n    flow {\n      ...PageFlow\n    }\n  }\n  ... on PossessionFailedError {\n    failureReasons {\n      code\n      description\n    }\n    flow {\n      ...PageFlow\n    }\n  }\n  ... on FlowExpiredError {\n    flow {\n      ...PageFlow\n    }\n  }\n  ... on InvalidInputError {\n    field\n  }\n  ... on RateLimitedError {\n    retryAfterSeconds\n  }\n  ... on BindNotAllowedError {\n    state\n  }\n}\n\nmutation PageStart($input: StartUnifyInput!) {\n  startUnify(input: $input) {\n    __typename\n    ... on StartUnifyPayload {\n      authToken\n      flow {\n        ...PageFlow\n      }\n    }\n    ... on Error {\n      ...PageError\n    }\n  }\n}\n\nquery PageStatus($flowId: ID!) {\n  unifyStatus(flowId: $flowId) {\n    __typename\n    ... on UnifyStatusPayload {\n      flow {\n        ...PageFlow\n      }\n    }\n    ... on Error {\n      ...PageError\n    }\n  }\n}\n\nsubscription PageWatch($flowId: ID!) {\n  unifyStatus(flowId: $flowId) {\n    __typename\n    ... on UnifyStatusPayload {\n      flow {\n        ...PageFlow\n      }\n    }\n    ... on Error {\n      ...PageError\n    }\n  }\n}\n\nmutation PageBind($input: BindPhoneInput!) {\n  bindPhone(input: $input) {\n    __typename\n    ... on BindPhonePayload {\n      flow {\n        ...PageFlow\n      }\n    }\n    ... on Error {\n      ...PageError\n    }\n  }\n}": typeof types.PageFlowFragmentDoc,
};
const documents: Documents = {
    "fragment PageFlow on UnifyFlow {\n  id\n  possessionType\n  state\n  phoneNumber\n  deviceId\n  failureReasons {\n    code\n    description\n  }\n  expiresAt\n  updatedAt\n}\n\nfragment PageError on Error {\n  __typename\n  code\n  message\n  ... on ProveKeyMismatchError {\n    upstreamCode\n    rebindRequired\n    flow {\n      ...PageFlow\n    }\n  }\n  ... on PossessionFailedError {\n    failureReasons {\n      code\n      description\n    }\n    flow {\n      ...PageFlow\n    }\n  }\n  ... on FlowExpiredError {\n    flow {\n      ...PageFlow\n    }\n  }\n  ... on InvalidInputError {\n    field\n  }\n  ... on RateLimitedError {\n    retryAfterSeconds\n  }\n  ... on BindNotAllowedError {\n    state\n  }\n}\n\nmutation PageStart($input: StartUnifyInput!) {\n  startUnify(input: $input) {\n    __typename\n    ... on StartUnifyPayload {\n      authToken\n      flow {\n        ...PageFlow\n      }\n    }\n    ... on Error {\n      ...PageError\n    }\n  }\n}\n\nquery PageStatus($flowId: ID!) {\n  unifyStatus(flowId: $flowId) {\n    __typename\n    ... on UnifyStatusPayload {\n      flow {\n        ...PageFlow\n      }\n    }\n    ... on Error {\n      ...PageError\n    }\n  }\n}\n\nsubscription PageWatch($flowId: ID!) {\n  unifyStatus(flowId: $flowId) {\n    __typename\n    ... on UnifyStatusPayload {\n      flow {\n        ...PageFlow\n      }\n    }\n    ... on Error {\n      ...PageError\n    }\n  }\n}\n\nmutation PageBind($input: BindPhoneInput!) {\n  bindPhone(input: $input) {\n    __typename\n    ... on BindPhonePayload {\n      flow {\n        ...PageFlow\n      }\n    }\n    ... on Error {\n      ...PageError\n    }\n  }\n}": types.PageFlowFragmentDoc,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment PageFlow on UnifyFlow {\n  id\n  possessionType\n  state\n  phoneNumber\n  deviceId\n  failureReasons {\n    code\n    description\n  }\n  expiresAt\n  updatedAt\n}\n\nfragment PageError on Error {\n  __typename\n  code\n  message\n  ... on ProveKeyMismatchError {\n    upstreamCode\n    rebindRequired\n    flow {\n      ...PageFlow\n    }\n  }\n  ... on PossessionFailedError {\n    failureReasons {\n      code\n      description\n    }\n    flow {\n      ...PageFlow\n    }\n  }\n  ... on FlowExpiredError {\n    flow {\n      ...PageFlow\n    }\n  }\n  ... on InvalidInputError {\n    field\n  }\n  ... on RateLimitedError {\n    retryAfterSeconds\n  }\n  ... on BindNotAllowedError {\n    state\n  }\n}\n\nmutation PageStart($input: StartUnifyInput!) {\n  startUnify(input: $input) {\n    __typename\n    ... on StartUnifyPayload {\n      authToken\n      flow {\n        ...PageFlow\n      }\n    }\n    ... on Error {\n      ...PageError\n    }\n  }\n}\n\nquery PageStatus($flowId: ID!) {\n  unifyStatus(flowId: $flowId) {\n    __typename\n    ... on UnifyStatusPayload {\n      flow {\n        ...PageFlow\n      }\n    }\n    ... on Error {\n      ...PageError\n    }\n  }\n}\n\nsubscription PageWatch($flowId: ID!) {\n  unifyStatus(flowId: $flowId) {\n    __typename\n    ... on UnifyStatusPayload {\n      flow {\n        ...PageFlow\n      }\n    }\n    ... on Error {\n      ...PageError\n    }\n  }\n}\n\nmutation PageBind($input: BindPhoneInput!) {\n  bindPhone(input: $input) {\n    __typename\n    ... on BindPhonePayload {\n      flow {\n        ...PageFlow\n      }\n    }\n    ... on Error {\n      ...PageError\n    }\n  }\n}"): typeof import('./graphql.js').PageFlowFragmentDoc;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

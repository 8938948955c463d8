import { agentOperations } from "./agents";
import { messageOperations } from "./messages";
import { oidcOperations } from "./oidc";
import { platformOperations } from "./platform";
import { sessionOperations } from "./sessions";
import { skillOperations } from "./skills";
import { teamOperations } from "./teams";

/** Every API operation. Route files wrap these; OpenAPI and the auth tests are generated from them. */
export const operations = {
  ...platformOperations,
  ...agentOperations,
  ...sessionOperations,
  ...messageOperations,
  ...skillOperations,
  ...teamOperations,
  ...oidcOperations,
};

export type OperationId = keyof typeof operations;

import { agentOperations } from "./agents";
import { messageOperations } from "./messages";
import { platformOperations } from "./platform";
import { sessionOperations } from "./sessions";
import { skillOperations } from "./skills";

/** Every API operation. Route files wrap these; OpenAPI and the auth tests are generated from them. */
export const operations = {
  ...platformOperations,
  ...agentOperations,
  ...sessionOperations,
  ...messageOperations,
  ...skillOperations,
};

export type OperationId = keyof typeof operations;

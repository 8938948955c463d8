import { agentOperations } from "./agents";
import { managedAgentOperations } from "./managed-agents";
import { managedSessionOperations } from "./managed-sessions";
import { managedSkillOperations } from "./managed-skills";
import { managedVaultOperations } from "./managed-vaults";
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
  ...managedAgentOperations,
  ...managedSessionOperations,
  ...managedVaultOperations,
  ...managedSkillOperations,
};

export type OperationId = keyof typeof operations;

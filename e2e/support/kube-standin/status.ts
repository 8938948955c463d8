import { qualifiedName, type ResourceType } from "./resources";

/*
 * Error answers, shaped like the real API server's `Status` bodies (kind, reason, details, code), so the
 * client library's error handling and a driver's `reason` checks see what they would see live.
 */

export type V1Status = {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, unknown>;
  status: "Success" | "Failure";
  message?: string;
  reason?: string;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    uid?: string;
    causes?: { reason?: string; message?: string; field?: string }[];
  };
  code: number;
};

export class StatusError extends Error {
  constructor(readonly status: V1Status) {
    super(status.message);
    this.name = "StatusError";
  }
}

function failure(code: number, reason: string, message: string, details?: V1Status["details"]) {
  return new StatusError({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    ...(details && { details }),
    code,
  });
}

const details = (type: ResourceType, name: string) => ({
  name,
  ...(type.group && { group: type.group }),
  kind: type.plural,
});

export const errors = {
  unauthorized: () => failure(401, "Unauthorized", "Unauthorized"),
  notFound: (type: ResourceType, name: string) =>
    failure(404, "NotFound", `${qualifiedName(type)} "${name}" not found`, details(type, name)),
  noSuchResource: () => failure(404, "NotFound", "the server could not find the requested resource", {}),
  alreadyExists: (type: ResourceType, name: string) =>
    failure(409, "AlreadyExists", `${qualifiedName(type)} "${name}" already exists`, details(type, name)),
  conflict: (type: ResourceType, name: string) =>
    failure(
      409,
      "Conflict",
      `Operation cannot be fulfilled on ${qualifiedName(type)} "${name}": the object has been modified; ` +
        "please apply your changes to the latest version and try again",
      details(type, name),
    ),
  invalid: (type: ResourceType, name: string, causes: { field: string; reason: string; message: string }[]) =>
    failure(
      422,
      "Invalid",
      `${type.kind} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(", ")}`,
      { name, ...(type.group && { group: type.group }), kind: type.kind, causes },
    ),
  /** What a JSON patch that cannot apply (missing path, failed test) gets. */
  invalidPatch: (message: string) =>
    failure(422, "Invalid", `the server rejected our request due to an error in our request: ${message}`),
  badRequest: (message: string) => failure(400, "BadRequest", message),
  forbidden: (type: ResourceType, name: string, verb: string, namespace: string | undefined) =>
    failure(
      403,
      "Forbidden",
      `${qualifiedName(type)}${name ? ` "${name}"` : ""} is forbidden: User "standin-user" cannot ${verb} ` +
        `resource "${type.plural}" in API group "${type.group}"` +
        (namespace ? ` in the namespace "${namespace}"` : " at the cluster scope"),
      details(type, name),
    ),
  methodNotAllowed: () =>
    failure(405, "MethodNotAllowed", "the server does not allow this method on the requested resource"),
  unsupportedMediaType: (contentType: string) =>
    failure(
      415,
      "UnsupportedMediaType",
      `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got ${contentType})`,
    ),
  expired: (message: string) => failure(410, "Expired", message),
  internal: (message: string) => failure(500, "InternalError", `Internal error occurred: ${message}`),
};

export function successStatus(type: ResourceType, name: string, uid: string): V1Status {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Success",
    details: { ...details(type, name), uid },
    code: 200,
  };
}

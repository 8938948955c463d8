import { facadeNotFoundRoute } from "@/lib/api/fallback";

// Unknown Managed Agents API paths: authenticate first, then 404 in Anthropic's error envelope.
export {
  facadeNotFoundRoute as GET,
  facadeNotFoundRoute as POST,
  facadeNotFoundRoute as PATCH,
  facadeNotFoundRoute as PUT,
  facadeNotFoundRoute as DELETE,
};

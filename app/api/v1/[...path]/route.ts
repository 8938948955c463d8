import { notFoundRoute } from "@/lib/api/fallback";

// Unknown /api/v1 paths: authenticate first (so nothing is revealed to strangers), then 404.
export {
  notFoundRoute as GET,
  notFoundRoute as POST,
  notFoundRoute as PATCH,
  notFoundRoute as PUT,
  notFoundRoute as DELETE,
};

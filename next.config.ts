import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // PGlite loads its WebAssembly and data files from its own package folder at run time, and the
  // database drivers and the Kubernetes client (WebSockets, its own fetch) keep process-wide state:
  // keep them out of the bundles.
  serverExternalPackages: ["@electric-sql/pglite", "postgres", "@kubernetes/client-node"],
  poweredByHeader: false,
  reactStrictMode: true,
  typedRoutes: false,
};

export default nextConfig;

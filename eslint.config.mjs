import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";
import drizzle from "eslint-plugin-drizzle";
import tseslint from "typescript-eslint";

// Layering (house style G2): pages and components never touch the database; client code never
// reaches server-only modules. Route handlers may call db/queries and nothing lower.
const dbPaths = [
  { name: "@/db", message: "Go through db/queries." },
  { name: "@/db/index", message: "Go through db/queries." },
  { name: "drizzle-orm", message: "Database code lives in db/." },
  { name: "postgres", message: "Database code lives in db/." },
];
const dbInternals = [
  {
    group: ["@/db/schema", "@/db/schema/*", "drizzle-orm/*", "@electric-sql/*"],
    message: "Database code lives in db/.",
  },
];
const serverOnly = [
  {
    group: ["@/db/*", "@/lib/api/*", "@/lib/runtime", "@/lib/config", "@/lib/secret-box", "@/lib/data-dir"],
    message: "Server-only module.",
  },
];

export default tseslint.config(
  {
    ignores: [
      ".next/**",
      "node_modules/**",
      ".hangar/**",
      "db/migrations/**",
      "next-env.d.ts",
      "bench/results/**",
    ],
  },
  ...nextVitals,
  ...nextTs,
  {
    plugins: { drizzle },
    rules: {
      "drizzle/enforce-delete-with-where": ["error", { drizzleObjectName: ["db", "tx"] }],
      "drizzle/enforce-update-with-where": ["error", { drizzleObjectName: ["db", "tx"] }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // Route handlers: Hangar's API and the Managed Agents API facade.
    files: ["app/api/**", "app/v1/**"],
    rules: { "no-restricted-imports": ["error", { paths: dbPaths, patterns: dbInternals }] },
  },
  {
    files: ["app/**"],
    ignores: ["app/api/**", "app/v1/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: dbPaths,
          patterns: [{ group: ["@/db/*"], message: "Pages never touch the database." }, ...dbInternals],
        },
      ],
    },
  },
  {
    files: ["components/**", "lib/schemas/**", "lib/api-client/**"],
    rules: {
      "no-restricted-imports": ["error", { paths: dbPaths, patterns: [...dbInternals, ...serverOnly] }],
    },
  },
  // The arrows between homes (README "Where things live"): sessions -> sandbox, harness, models,
  // db/queries; sandbox and harness never import db or sessions; db imports only lib/schemas,
  // lib/errors, lib/ids and lib/process-slot (a leaf). Tests may cross them.
  {
    files: ["db/**"],
    ignores: ["**/*.test.ts", "db/queries/test-support.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: [
                "**/lib/*",
                "!**/lib/schemas",
                "!**/lib/errors",
                "!**/lib/ids",
                "!**/lib/process-slot",
                "**/lib/*/**",
                "!**/lib/schemas/*",
              ],
              message: "db/ imports only lib/schemas, lib/errors, lib/ids and lib/process-slot.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["lib/sandbox/**"],
    ignores: ["**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: dbPaths,
          patterns: [
            {
              group: [
                "@/db/*",
                "@/lib/sessions/*",
                "@/lib/harness",
                "@/lib/harness/*",
                "@/lib/agents/*",
                "@/lib/managed/*",
                "@/lib/runtime",
              ],
              message: "lib/sandbox launches sandboxes; it never reaches into db, sessions or harnesses.",
            },
            ...dbInternals,
          ],
        },
      ],
    },
  },
  {
    files: ["lib/harness/**"],
    ignores: ["**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: dbPaths,
          patterns: [
            {
              group: ["@/db/*", "@/lib/sessions/*", "@/lib/agents/*", "@/lib/managed/*", "@/lib/runtime"],
              message: "A harness knows its sandbox and its wire, never db or sessions.",
            },
            ...dbInternals,
          ],
        },
      ],
    },
  },
  {
    // Tests read JSON bodies whose shape is what they assert; typing each one adds nothing.
    files: ["e2e/**", "**/*.test.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);

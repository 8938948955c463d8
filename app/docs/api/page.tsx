import type { Metadata } from "next";

import { buildOpenApiDocument } from "@/lib/api/openapi";

import styles from "./page.module.css";

export const metadata: Metadata = { title: "API reference" };

type Parameter = { name: string; in: string; required: boolean; schema: Record<string, unknown> };
type OperationDoc = {
  operationId: string;
  tags: string[];
  summary: string;
  description?: string;
  security?: unknown[];
  parameters: Parameter[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>;
};

function Schema({ label, schema }: { label: string; schema: unknown }) {
  return (
    <details className={styles.schema}>
      <summary>{label}</summary>
      <pre>{JSON.stringify(schema, null, 2)}</pre>
    </details>
  );
}

/** A readable rendering of /api/v1/openapi.json: the same document, generated from the same table. */
export default function ApiDocsPage() {
  const doc = buildOpenApiDocument() as {
    info: { title: string; description: string };
    paths: Record<string, Record<string, OperationDoc>>;
  };
  const ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
  );
  const tags = [...new Set(ops.map((o) => o.op.tags[0] ?? "Other"))];

  return (
    <main className={styles.page}>
      <h1>{doc.info.title}</h1>
      <p className={styles.muted}>{doc.info.description}</p>
      <p>
        Machine-readable: <code>GET /api/v1/openapi.json</code> (OpenAPI 3.1).
      </p>
      {tags.map((tag) => (
        <section key={tag}>
          <h2>{tag}</h2>
          {ops
            .filter((o) => (o.op.tags[0] ?? "Other") === tag)
            .map(({ path, method, op }) => (
              <article key={op.operationId} id={op.operationId} className={styles.op}>
                <h3>
                  <span className={styles.method} data-method={method}>
                    {method}
                  </span>
                  <code>{path}</code>
                </h3>
                <p>
                  {op.summary}
                  {op.security?.length === 0 ? " · no auth" : ""}
                </p>
                {op.description && <p className={styles.muted}>{op.description}</p>}
                {op.parameters.length > 0 && (
                  <table className={styles.params}>
                    <thead>
                      <tr>
                        <th>Parameter</th>
                        <th>In</th>
                        <th>Schema</th>
                      </tr>
                    </thead>
                    <tbody>
                      {op.parameters.map((p) => (
                        <tr key={`${p.in}:${p.name}`}>
                          <td>
                            <code>{p.name}</code>
                            {p.required ? " *" : ""}
                          </td>
                          <td>{p.in}</td>
                          <td>
                            <code>{JSON.stringify(p.schema)}</code>
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
                {op.requestBody && (
                  <Schema label="Request body" schema={op.requestBody.content["application/json"]?.schema} />
                )}
                {Object.entries(op.responses).map(([status, r]) => (
                  <div key={status} className={styles.response}>
                    <strong>{status}</strong> {r.description}
                    {r.content?.["application/json"] && (
                      <Schema label="Response body" schema={r.content["application/json"].schema} />
                    )}
                  </div>
                ))}
              </article>
            ))}
        </section>
      ))}
    </main>
  );
}

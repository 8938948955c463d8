import Link from "next/link";

export default function HomePage() {
  return (
    <main style={{ maxWidth: 640, margin: "15vh auto", padding: "0 24px", lineHeight: 1.6 }}>
      <h1 style={{ fontSize: 24, marginBottom: 4 }}>Hangar</h1>
      <p style={{ color: "var(--muted)", marginTop: 0 }}>Run coding agents in sandboxes.</p>
      <p>
        The REST API is live. Read the <Link href="/docs/api">API reference</Link> or fetch{" "}
        <code>/api/v1/openapi.json</code>.
      </p>
    </main>
  );
}

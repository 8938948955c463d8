import type { Metadata } from "next";

import { SessionViewer } from "@/components/sessions/session-viewer";

export const metadata: Metadata = { title: "Session" };

export default async function SessionPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <SessionViewer id={id} />;
}

import type { Metadata } from "next";
import { headers } from "next/headers";
import type { ReactNode } from "react";

import { THEME_SCRIPT } from "@/components/theme";

import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Hangar", template: "%s · Hangar" },
  description: "Run coding agents in sandboxes",
};

// The page's script nonce (server.ts makes one per request; the CSP allows only scripts carrying it).
// Reading it makes every page render per request, which they all did already but the API reference.
export default async function RootLayout({ children }: { children: ReactNode }) {
  const nonce = (await headers()).get("x-nonce") ?? undefined;
  return (
    <html lang="en" suppressHydrationWarning>
      <head>
        <script nonce={nonce} dangerouslySetInnerHTML={{ __html: THEME_SCRIPT }} />
      </head>
      <body>{children}</body>
    </html>
  );
}

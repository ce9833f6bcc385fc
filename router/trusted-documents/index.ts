import type { ApolloServerPlugin } from "@apollo/server";
import type { Registry } from "prom-client";
import type { Logger } from "../../platform/logger.ts";
import type { RouterContext } from "../context.ts";
import type { TrustedDocumentsSettings } from "./config.ts";
import { loadManifestFiles } from "./manifest-files.ts";
import { createTrustedDocumentsPlugin } from "./plugin.ts";

/** The router's trusted-document plugin for its settings (none when off), and how to stop watching. */
export function createTrustedDocuments({
  settings,
  logger,
  registry,
}: {
  settings: TrustedDocumentsSettings;
  logger: Logger;
  registry?: Registry;
}): { plugins: ApolloServerPlugin<RouterContext>[]; close(): void } {
  if (settings.mode === "off") return { plugins: [], close: () => undefined };
  const manifests = loadManifestFiles(settings.manifests, { logger });
  logger.info(
    { mode: settings.mode, documents: manifests.size },
    "trusted documents loaded",
  );
  return {
    plugins: [
      createTrustedDocumentsPlugin({
        mode: settings.mode,
        manifests,
        adminBypass: settings.adminBypass,
        logger,
        registry,
      }),
    ],
    close: () => manifests.close(),
  };
}

import { ConfigError } from "../../platform/config.ts";
import {
  custom,
  define,
  list,
  readSetting,
  setting,
  text,
  type Env,
} from "../../platform/settings.ts";
import type { TrustedDocumentsMode } from "./plugin.ts";

export interface TrustedDocumentsSettings {
  /** @default "off" */
  readonly mode: TrustedDocumentsMode;
  /** Manifest files (Apollo's persisted-query manifest format), watched and hot-reloaded. */
  readonly manifests: readonly string[];
  /** Callers with the `admin` scope may run any document in `enforce` mode. @default true */
  readonly adminBypass: boolean;
}

const paths = custom<readonly string[]>(
  { anyOf: [{ type: "array", items: { type: "string" } }, { type: "string" }] },
  (raw, context) => Object.freeze(list(text).parse(raw, context)),
);

/** Trusted documents' settings (spread into ROUTER_SETTINGS, read by readTrustedDocumentsSettings). */
export const TRUSTED_DOCUMENTS_SETTINGS = Object.freeze({
  trustedDocumentsMode: define.oneOf(["off", "log-unknown", "enforce"], {
    env: "ROUTER_TRUSTED_DOCUMENTS_MODE",
    key: "router.trusted_documents.mode",
    default: "off",
    description:
      "`log-unknown` logs and counts operations in no manifest; `enforce` runs only manifest documents (OPERATION_NOT_ALLOWED otherwise; docs/trusted-documents.md)",
  }),
  trustedDocumentsManifests: setting<readonly string[]>({
    env: "ROUTER_TRUSTED_DOCUMENTS_MANIFESTS",
    key: "router.trusted_documents.manifests",
    type: paths,
    default: [],
    defaultText: "none",
    description:
      "manifest files (comma-separated), e.g. `clients/generated/persisted-documents.json` from `npm run codegen`; watched and hot-reloaded",
  }),
  trustedDocumentsAdminBypass: define.boolean({
    env: "ROUTER_TRUSTED_DOCUMENTS_ADMIN_BYPASS",
    key: "router.trusted_documents.admin_bypass",
    default: true,
    description:
      "in `enforce` mode, callers whose token has the `admin` scope may run any document (tooling)",
  }),
});

export function readTrustedDocumentsSettings(
  env: Env,
): TrustedDocumentsSettings {
  const { trustedDocumentsMode, trustedDocumentsManifests } =
    TRUSTED_DOCUMENTS_SETTINGS;
  const mode = readSetting(env, trustedDocumentsMode);
  const manifests = readSetting(env, trustedDocumentsManifests);
  // Enforce without a list would refuse every client that is not an admin.
  if (mode === "enforce" && manifests.length === 0)
    throw new ConfigError(
      trustedDocumentsManifests.env,
      `must name at least one manifest when ${trustedDocumentsMode.env}=enforce`,
    );
  return Object.freeze({
    mode,
    manifests,
    adminBypass: readSetting(
      env,
      TRUSTED_DOCUMENTS_SETTINGS.trustedDocumentsAdminBypass,
    ),
  });
}

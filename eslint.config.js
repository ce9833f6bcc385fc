import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  // Generated code is typechecked (tsc) but not linted: its style is the generator's.
  {
    ignores: [
      "node_modules/",
      ".data/",
      ".cache/",
      "coverage/",
      "dist/",
      "clients/generated/",
      "subgraphs/*/generated/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
      "no-console": ["error", { allow: ["error"] }],
    },
  },
  {
    files: [
      "scripts/**",
      "bench/**",
      "main.ts",
      "**/main.ts",
      "clients/example.ts",
    ],
    rules: { "no-console": "off" },
  },
);

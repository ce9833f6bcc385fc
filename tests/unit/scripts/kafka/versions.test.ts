import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";

/** The Kafka a laptop runs (`npm run kafka:start`, from scripts/kafka/pom.xml) is the one compose runs. */
describe("one Kafka version", () => {
  it("docker-compose.yml's apache/kafka image is pom.xml's kafka.version, and docs/deployment.md names it", () => {
    const version = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(
      readFileSync("scripts/kafka/pom.xml", "utf8"),
    )?.[1];
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    const compose = parse(readFileSync("docker-compose.yml", "utf8")) as {
      services: Record<string, { image?: string }>;
    };
    expect(compose.services.kafka?.image).toBe(`apache/kafka:${version}`);
    expect(readFileSync("docs/deployment.md", "utf8")).toContain(
      `\`apache/kafka:${version}\``,
    );
  });

  it("the pom names the script that uses it, and that script exists", () => {
    const pom = readFileSync("scripts/kafka/pom.xml", "utf8");
    const scripts = [
      ...pom.matchAll(/(?<![\w/])scripts\/kafka\/[\w.-]+\.(?:ts|sh)/g),
    ].map((match) => match[0]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts)
      expect(() => readFileSync(script), script).not.toThrow();
  });
});

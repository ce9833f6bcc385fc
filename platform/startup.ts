/**
 * How a deployable refuses to start: one message on stderr, no stack trace, a distinct exit code.
 * A configuration problem (every one found, each with its path) exits 2, like a command-line usage
 * error; a port someone else holds exits 1 with one line naming the port and the setting behind it.
 * Anything else is a bug or an outage and keeps its stack.
 */
import { ConfigurationRefused } from "./config-file.ts";
import { PortInUseError } from "./http-server.ts";
import { ConfigError } from "./settings.ts";

export const EXIT_CONFIGURATION = 2;
export const EXIT_PORT_IN_USE = 1;

/** The exit code and message for a refusal, or undefined for an error that keeps its stack. */
export function startupFailure(
  error: unknown,
): { code: number; message: string } | undefined {
  if (error instanceof ConfigurationRefused || error instanceof ConfigError)
    return { code: EXIT_CONFIGURATION, message: error.message };
  if (error instanceof PortInUseError)
    return { code: EXIT_PORT_IN_USE, message: error.message };
  return undefined;
}

/** Runs a deployable's start; a refusal is printed as one message and ends the process. */
export async function startOrExit<T>(start: () => Promise<T> | T): Promise<T> {
  try {
    return await start();
  } catch (error) {
    const failure = startupFailure(error);
    if (!failure) throw error;
    console.error(`switchyard: ${failure.message}`);
    process.exit(failure.code);
  }
}

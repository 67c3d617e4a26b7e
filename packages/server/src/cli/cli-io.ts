/**
 * Where a subcommand writes and how it reports failure. Commands take it as a parameter so that
 * tests can run them in-process and read their output; the default is the real process.
 */

export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  /** Sets the process exit code (commands never call process.exit: pending output must drain). */
  setExitCode(code: number): void;
  /** ms since the epoch. */
  now(): number;
  /** Environment variables (NO_COLOR, LINKTRACE_TOKEN). */
  env: Record<string, string | undefined>;
}

export const processIo: CliIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  setExitCode: (code) => {
    process.exitCode = code;
  },
  now: Date.now,
  env: process.env,
};

/** Colours only for a terminal, and never when NO_COLOR is set (no-color.org). */
export function wantsColor(io: CliIo, stream: OutputStream): boolean {
  return stream.isTTY === true && (io.env.NO_COLOR ?? '') === '';
}

declare const SATELLITE_VERSION: string | undefined;

/** Set by build.mjs from package.json; "dev" when run from the TypeScript sources. */
export const version: string = typeof SATELLITE_VERSION === "string" ? SATELLITE_VERSION : "dev";

declare const Deno: { version: { deno: string } } | undefined;

/** What runs the bundle, for the start-up log line: "node v24.21.0 --lite-mode", "deno 2.9.6". */
export const runtimeName = (): string =>
  typeof Deno !== "undefined" ? `deno ${Deno.version.deno}` : [`node ${process.version}`, ...process.execArgv].join(" ");

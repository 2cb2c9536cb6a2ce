declare const SATELLITE_VERSION: string | undefined;

/** Set by build.mjs from package.json; "dev" when run from the TypeScript sources. */
export const version: string = typeof SATELLITE_VERSION === "string" ? SATELLITE_VERSION : "dev";

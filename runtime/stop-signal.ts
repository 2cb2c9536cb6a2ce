/** Resolves with the name of the first SIGTERM or SIGINT: the process is asked to stop. */
export const stopSignal = () =>
  new Promise<string>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });

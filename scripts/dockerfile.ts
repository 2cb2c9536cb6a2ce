/** What the image build takes from a Dockerfile's final stage. */
export interface FinalStage {
  from: string;
  /** COPY --from=<stage> <from> <to>: paths inside the build stage and the image. */
  copies: { from: string; to: string }[];
  user: string;
  entrypoint: string[];
  cmd: string[];
}

/** Reads the last stage of a Dockerfile; refuses instructions the OCI archive build cannot follow. */
export function finalStage(dockerfile: string): FinalStage {
  const lines = dockerfile
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const start = lines.map((l) => /^FROM\s/i.test(l)).lastIndexOf(true);
  if (start < 0) throw new Error("the Dockerfile has no FROM");
  const stage: FinalStage = { from: lines[start]!.split(/\s+/)[1]!, copies: [], user: "", entrypoint: [], cmd: [] };
  for (const line of lines.slice(start + 1)) {
    const [word, ...rest] = line.split(/\s+/);
    const args = rest.join(" ");
    switch (word!.toUpperCase()) {
      case "COPY": {
        const parts = rest.filter((p) => !p.startsWith("--"));
        if (parts.length !== 2 || !rest.some((p) => p.startsWith("--from=")))
          throw new Error(`unsupported COPY in the final stage: ${line}`);
        stage.copies.push({ from: parts[0]!, to: parts[1]! });
        break;
      }
      case "USER":
        stage.user = args;
        break;
      case "ENTRYPOINT":
        stage.entrypoint = JSON.parse(args) as string[];
        break;
      case "CMD":
        stage.cmd = JSON.parse(args) as string[];
        break;
      default:
        throw new Error(`unsupported instruction in the Dockerfile's final stage: ${line}`);
    }
  }
  return stage;
}

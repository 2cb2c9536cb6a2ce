// npm run dev: satellite on a local default. On a real node (kubelet + containerd, as root on
// Debian) when this machine can run one; else on the stand-in (a control plane with no kubelet).
import { binaries } from "../test/harness/binaries.ts";
import { realNodeUnavailable } from "../test/harness/realnode.ts";

binaries();
const why = realNodeUnavailable();
if (why) {
  process.stdout.write(
    `No real node on this machine (${why}): falling back to the stand-in, a control plane with no kubelet, where pods never run.\n`,
  );
  await import("./dev-stand-in.ts");
} else {
  await import("./dev-realnode.ts");
}

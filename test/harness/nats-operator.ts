// nats-operator v0.8.3 itself (built by the test bed from the Go module proxy), run on the host
// against the real node for one namespace, as the adoption tests start it.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { binaries } from "./binaries.ts";
import { type Proc, startProcess } from "./process.ts";

export function startNatsOperator(kubeconfig: string, namespace: string): Proc {
  return startProcess(
    "nats-operator",
    binaries().NATS_OPERATOR_BIN,
    ["--debug-kube-config-path", kubeconfig],
    join(mkdtempSync(join(tmpdir(), "nats-operator-")), "nats-operator.log"),
    { ...process.env, MY_POD_NAMESPACE: namespace },
  );
}

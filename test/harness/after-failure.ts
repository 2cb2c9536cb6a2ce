import { readFileSync } from "node:fs";
import { afterEach, inject } from "vitest";

/** When an integration test fails, show the end of the control plane's logs next to it. */
afterEach((ctx) => {
  if (ctx.task.result?.state !== "fail") return;
  const info = inject("controlPlane");
  const tail = (path: string) => {
    try {
      return readFileSync(path, "utf8").split("\n").slice(-25).join("\n");
    } catch {
      return "(no log)";
    }
  };
  console.error(`--- kube-apiserver log tail (${info.apiserverLog}) ---\n${tail(info.apiserverLog)}`);
  console.error(`--- etcd log tail (${info.etcdLog}) ---\n${tail(info.etcdLog)}`);
});

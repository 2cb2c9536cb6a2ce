import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { advertiseFileTexts, kinds, nodeAdvertiseAddress } from "../../handlers/index.ts";
import { type FlagSpec, flagHelp, parseFlags, UsageError } from "../flags.ts";
import { createKubeClient } from "../kube/client.ts";
import { KubeError } from "../kube/errors.ts";
import { findKubeTarget } from "../kube/kubeconfig.ts";
import { createLogger } from "../log.ts";
import { version } from "../version.ts";

export const bootconfigFlags: FlagSpec[] = [
  {
    names: ["f"],
    arg: "FILE",
    help: "write the client advertise (client_advertise) here",
    default: "/etc/nats-advertise/client_advertise.conf",
  },
  {
    names: ["gf"],
    arg: "FILE",
    help: "write the gateway and leafnode advertise (advertise) here",
    default: "/etc/nats-advertise/gateway_advertise.conf",
  },
  { names: ["node"], arg: "NAME", env: ["KUBERNETES_NODE_NAME"], help: "the node whose address to advertise" },
  { names: ["kubeconfig"], arg: "FILE", env: ["KUBECONFIG"], help: "kubeconfig (default: the pod's service account)" },
  { names: ["log-format"], arg: "json|text", help: "log format (default: text on a terminal, json otherwise)" },
  { names: ["help", "h"], boolean: true, help: "show this help" },
];

export const bootconfigUsage = `Usage: satellite bootconfig [-f FILE] [-gf FILE] [-node NAME]

An init container next to nats-server (spec.pod.advertiseExternalIP): reads the pod's Node and
writes the files nats.conf includes, so clients, gateways and leafnodes are told the node's
address: its ExternalIP, else its InternalIP. The pod's service account needs "get" on nodes.

Flags:
${flagHelp(bootconfigFlags)}
`;

export async function bootconfig(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values: f, rest } = parseFlags(bootconfigFlags, argv, env);
  if (f.help) {
    process.stdout.write(bootconfigUsage);
    return 0;
  }
  if (rest.length) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}: see satellite bootconfig --help`);
  const nodeName = f.node as string | undefined;
  if (!nodeName) throw new UsageError("no node: set -node or KUBERNETES_NODE_NAME (the pod's spec.nodeName, through the downward API)");
  const log = createLogger({ format: f["log-format"] as "json" | "text" | undefined }, { component: "bootconfig" });
  const kube = createKubeClient(findKubeTarget({ kubeconfig: f.kubeconfig as string | undefined }), {
    userAgent: `satellite-bootconfig/${version}`,
  });
  try {
    const node = await kube.get(kinds.Node, { name: nodeName }).catch((e: unknown) => {
      if (e instanceof KubeError && e.status === 403)
        throw new Error(`the pod's service account may not get node ${nodeName}: give it "get" on nodes (a ClusterRole and its binding)`);
      throw e;
    });
    const found = nodeAdvertiseAddress(node);
    if ("error" in found) throw new Error(found.error);
    const texts = advertiseFileTexts(found.address);
    for (const [file, text] of [
      [String(f.f), texts.client],
      [String(f.gf), texts.gateway],
    ] as const) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
    }
    log.info("advertise written", { node: nodeName, address: found.address, addressType: found.type, files: [f.f, f.gf] });
    return 0;
  } finally {
    kube.close();
  }
}

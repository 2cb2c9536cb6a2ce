// runtime/kube/yaml.ts against js-yaml: kubeconfigs in the shapes real tools write, random
// kubeconfig-like objects dumped by js-yaml in several styles, and what it must refuse.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import { type DumpOptions, dump, load } from "js-yaml";
import { describe, expect, it } from "vitest";
import { loadKubeconfig } from "../../runtime/kube/kubeconfig.ts";
import { parseYaml } from "../../runtime/kube/yaml.ts";

const ca =
  "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUMvakNDQWVhZ0F3SUJBZ0lCQURBTkJna3Foa2lHOXcwQkFRc0ZBREFWTVJNd0VRWURWUVFERXdwcmRXSmwKY201bGRHVnpNQjRYRFRJME1ERXdNVEV3TURBd01Gb1hEVE0wTURFd01URXdNREF3TUZvd0ZURVRNQkVHQTFVRQo=";

const fixtures: Record<string, string> = {
  "kind (kubectl config view --raw)": `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${ca}
    server: https://127.0.0.1:38951
  name: kind-kind
contexts:
- context:
    cluster: kind-kind
    user: kind-kind
  name: kind-kind
current-context: kind-kind
kind: Config
preferences: {}
users:
- name: kind-kind
  user:
    client-certificate-data: ${ca}
    client-key-data: ${ca}
`,
  "k3s /etc/rancher/k3s/k3s.yaml": `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${ca}
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: ${ca}
    client-key-data: ${ca}
`,
  "minikube, with extensions": `apiVersion: v1
clusters:
- cluster:
    certificate-authority: /home/me/.minikube/ca.crt
    extensions:
    - extension:
        last-update: Mon, 01 Jan 2024 10:00:00 UTC
        provider: minikube.sigs.k8s.io
        version: v1.32.0
      name: cluster_info
    server: https://192.168.49.2:8443
  name: minikube
contexts:
- context:
    cluster: minikube
    extensions:
    - extension:
        last-update: Mon, 01 Jan 2024 10:00:00 UTC
        provider: minikube.sigs.k8s.io
        version: v1.32.0
      name: context_info
    namespace: default
    user: minikube
  name: minikube
current-context: minikube
kind: Config
preferences: {}
users:
- name: minikube
  user:
    client-certificate: /home/me/.minikube/profiles/minikube/client.crt
    client-key: /home/me/.minikube/profiles/minikube/client.key
`,
  "minikube on Windows, CRLF line ends": String.raw`apiVersion: v1
clusters:
- cluster:
    certificate-authority: C:\Users\me\.minikube\ca.crt
    server: https://127.0.0.1:52614
  name: minikube
contexts:
- context:
    cluster: minikube
    namespace: default
    user: minikube
  name: minikube
current-context: minikube
kind: Config
preferences: {}
users:
- name: minikube
  user:
    client-certificate: C:\Users\me\.minikube\profiles\minikube\client.crt
    client-key: C:\Users\me\.minikube\profiles\minikube\client.key
`.replace(/\n/g, "\r\n"),
  "kubeadm admin.conf": `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${ca}
    server: https://10.0.0.10:6443
  name: kubernetes
contexts:
- context:
    cluster: kubernetes
    user: kubernetes-admin
  name: kubernetes-admin@kubernetes
current-context: kubernetes-admin@kubernetes
kind: Config
users:
- name: kubernetes-admin
  user:
    client-certificate-data: ${ca}
    client-key-data: ${ca}
`,
  "EKS (aws eks update-kubeconfig)": `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${ca}
    server: https://0123456789ABCDEF0123456789ABCDEF.gr7.us-west-2.eks.amazonaws.com
  name: arn:aws:eks:us-west-2:123456789012:cluster/prod
contexts:
- context:
    cluster: arn:aws:eks:us-west-2:123456789012:cluster/prod
    user: arn:aws:eks:us-west-2:123456789012:cluster/prod
  name: arn:aws:eks:us-west-2:123456789012:cluster/prod
current-context: arn:aws:eks:us-west-2:123456789012:cluster/prod
kind: Config
preferences: {}
users:
- name: arn:aws:eks:us-west-2:123456789012:cluster/prod
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - --region
      - us-west-2
      - eks
      - get-token
      - --cluster-name
      - prod
      - --output
      - json
      command: aws
      env:
      - name: AWS_PROFILE
        value: prod-admin
`,
  "eksctl, indented sequences and env: null": `apiVersion: v1
clusters:
  - cluster:
      certificate-authority-data: ${ca}
      server: https://ABC.yl4.eu-west-1.eks.amazonaws.com
    name: prod.eu-west-1.eksctl.io
contexts:
  - context:
      cluster: prod.eu-west-1.eksctl.io
      user: ops@prod.eu-west-1.eksctl.io
    name: ops@prod.eu-west-1.eksctl.io
current-context: ops@prod.eu-west-1.eksctl.io
kind: Config
preferences: {}
users:
  - name: ops@prod.eu-west-1.eksctl.io
    user:
      exec:
        apiVersion: client.authentication.k8s.io/v1beta1
        args:
          - eks
          - get-token
          - --output
          - json
          - --cluster-name
          - prod
          - --region
          - eu-west-1
        command: aws
        env:
          - name: AWS_STS_REGIONAL_ENDPOINTS
            value: regional
        provideClusterInfo: false
`,
  "GKE (gcloud container clusters get-credentials), a folded plain scalar": `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${ca}
    server: https://34.120.0.1
  name: gke_my-project_europe-west1_prod
contexts:
- context:
    cluster: gke_my-project_europe-west1_prod
    user: gke_my-project_europe-west1_prod
  name: gke_my-project_europe-west1_prod
current-context: gke_my-project_europe-west1_prod
kind: Config
preferences: {}
users:
- name: gke_my-project_europe-west1_prod
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: gke-gcloud-auth-plugin
      installHint: Install gke-gcloud-auth-plugin for use with kubectl by following
        https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl#install_plugin
      provideClusterInfo: true
`,
  "AKS (az aks get-credentials), kubelogin with a |2 block scalar": `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${ca}
    server: https://myaks-dns-1a2b3c4d.hcp.eastus.azmk8s.io:443
  name: myaks
contexts:
- context:
    cluster: myaks
    user: clusterUser_rg_myaks
  name: myaks
current-context: myaks
kind: Config
preferences: {}
users:
- name: clusterUser_rg_myaks
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - get-token
      - --environment
      - AzurePublicCloud
      - --server-id
      - 6dae42f8-4368-4678-94ff-3960e28e3630
      - --client-id
      - 80faf920-1908-4b52-b5ef-a8e7bedfc67a
      - --tenant-id
      - 72f988bf-86f1-41af-91ab-2d7cd011db47
      - --login
      - devicecode
      command: kubelogin
      env: null
      installHint: |2

        kubelogin is not installed which is required to connect to AAD enabled cluster.

        To learn more, please go to https://aka.ms/aks/kubelogin
      provideClusterInfo: false
`,
  "AKS admin credentials, token": `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${ca}
    server: https://myaks-dns-1a2b3c4d.hcp.eastus.azmk8s.io:443
  name: myaks
contexts:
- context:
    cluster: myaks
    user: clusterAdmin_rg_myaks
  name: myaks-admin
current-context: myaks-admin
kind: Config
preferences: {}
users:
- name: clusterAdmin_rg_myaks
  user:
    client-certificate-data: ${ca}
    client-key-data: ${ca}
    token: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
`,
  "kubectl config set-* on an empty config": `apiVersion: v1
clusters:
- cluster:
    insecure-skip-tls-verify: true
    server: https://10.1.2.3:6443
  name: lab
contexts:
- context:
    cluster: lab
    namespace: edge
    user: admin
  name: lab
current-context: lab
kind: Config
preferences: {}
users:
- name: admin
  user:
    password: "123456"
    username: admin
`,
  "kubectl config view with nothing set": `apiVersion: v1
clusters: null
contexts: null
current-context: ""
kind: Config
preferences: {}
users: null
`,
  "Rancher, double-quoted with escaped line breaks": `apiVersion: v1
kind: Config
clusters:
- name: "local"
  cluster:
    server: "https://rancher.example.com/k8s/clusters/local"
    certificate-authority-data: "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJ2VENDQ\\
      VdPZ0F3SUJBZ0lCQURBS0JnZ3Foa2pPUFFRREFqQkdNUnd3R2dZRFZRUUtFeE5rZVc1aGJXbGoKYk\\
      dsemRHVnVaWEl0YjNKbk1TWXdKQVlEVlFRRERCMWtlVzVoYldsamJHbHpkR1Z1WlhJdFkyRkFNVFk0"

users:
- name: "local"
  user:
    token: "kubeconfig-user-abcde:0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefgh"


contexts:
- name: "local"
  context:
    user: "local"
    cluster: "local"

current-context: "local"
`,
  "hand-written: comments, ---, quotes, flow lists, block scalars": `# Written by hand for the lab.
---
apiVersion: v1   # the only version there is
kind: 'Config'
clusters:
  # the lab cluster
  - name: lab
    cluster:
      server: "https://lab.example.com:6443/"   # trailing slash on purpose
      certificate-authority-data: >-
        LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUMvakNDQWVhZ0F3SUJBZ0lCQURBTkJna3Fo
        a2lHOXcwQkFRc0ZBREFWTVJNd0VRWURWUVFERXdwcmRXSmwKY201bGRHVnpNQjRYRFRJME1E
      insecure-skip-tls-verify: false
      proxy-url: ~
users:
  - name: "dev"
    user:
      token: |-
        eyJhbGciOiJSUzI1NiIsImtpZCI6IiJ9.eyJpc3MiOiJrdWJlcm5ldGVzIn0.c2lnbmF0dXJl
      exec: {apiVersion: client.authentication.k8s.io/v1, command: "/usr/local/bin/auth", args: ["--user", 'dev', --verbose], env: []}
  - name: "dev \\"quoted\\" \\u00e9\\t\\x41"
    user: {}
contexts:
- name: lab
  context: {cluster: lab, user: dev, namespace: "edge"}
current-context: lab
preferences: { }
...
`,
  "kubectl config view -o json": JSON.stringify(
    {
      kind: "Config",
      apiVersion: "v1",
      preferences: {},
      clusters: [{ name: "kind-kind", cluster: { server: "https://127.0.0.1:38951", "certificate-authority-data": ca } }],
      users: [
        {
          name: "kind-kind",
          user: { exec: { command: "get-token", args: ["a", "b c"], env: [{ name: "X", value: "1" }], provideClusterInfo: true } },
        },
      ],
      contexts: [{ name: "kind-kind", context: { cluster: "kind-kind", user: "kind-kind", namespace: "default" } }],
      "current-context": "kind-kind",
    },
    null,
    4,
  ),
  "JSON written by a script, minified, with a BOM": `\uFEFF{"apiVersion":"v1","kind":"Config","clusters":[{"name":"c","cluster":{"server":"https://k:6443","insecure-skip-tls-verify":true}}],"contexts":[{"name":"c","context":{"cluster":"c","user":"u"}}],"current-context":"c","users":[{"name":"u","user":{"token":"a\\/b\\u0041"}}]}`,
  "JSON indented with tabs": JSON.stringify(
    { clusters: [{ name: "c", cluster: { server: "https://k" } }], users: [], n: 1.5e-7 },
    null,
    "\t",
  ),
};

describe("YAML reader on kubeconfigs as tools write them", () => {
  for (const [name, text] of Object.entries(fixtures)) {
    it(`reads ${name} as js-yaml does`, () => {
      const ours = parseYaml(text);
      expect(ours).toHaveProperty("clusters");
      expect(ours).toEqual(load(text));
    });
  }

  it("folds, keeps and strips block scalars as js-yaml does", () => {
    const text = `a: |
  one
    two

  three


b: >
  folded
  line

    more indented
  back
c: |+
  kept

d: >-
  stripped
e: |1
   leading space
f: |
g: end
`;
    expect(parseYaml(text)).toEqual(load(text));
  });

  it("resolves plain scalars as js-yaml's core types, and leaves dates as strings", () => {
    const text =
      "[null, Null, ~, true, False, 0, -0, 012, 0x1F, 0o17, 0b101, 1_000, 1.5, -.5, 1e3, .inf, -.Inf, .nan, yes, off, 1e400, 0x, 2024-01-01]";
    const ours = parseYaml(text) as unknown[];
    expect(ours.slice(0, -1)).toEqual((load(text) as unknown[]).slice(0, -1));
    expect(ours.at(-1)).toBe("2024-01-01");
  });

  it("feeds loadKubeconfig, whose errors name the file and the line", () => {
    const dir = mkdtempSync(join(tmpdir(), "satellite-yaml-"));
    writeFileSync(join(dir, "eks"), fixtures["EKS (aws eks update-kubeconfig)"]!);
    const t = loadKubeconfig(join(dir, "eks"));
    expect(t.server).toBe("https://0123456789ABCDEF0123456789ABCDEF.gr7.us-west-2.eks.amazonaws.com");
    expect(t.exec?.args).toEqual(["--region", "us-west-2", "eks", "get-token", "--cluster-name", "prod", "--output", "json"]);
    expect(t.exec?.env).toEqual([{ name: "AWS_PROFILE", value: "prod-admin" }]);
    writeFileSync(join(dir, "bad"), "clusters:\n- name: a\n\tcluster: {}\n");
    expect(() => loadKubeconfig(join(dir, "bad"))).toThrow(
      `cannot read kubeconfig ${join(dir, "bad")}: line 3, column 1: tabs cannot indent YAML`,
    );
    rmSync(dir, { recursive: true });
  });
});

const word = fc.constantFrom(
  "apiVersion",
  "kind",
  "clusters",
  "cluster",
  "server",
  "certificate-authority-data",
  "insecure-skip-tls-verify",
  "users",
  "user",
  "exec",
  "args",
  "env",
  "name",
  "value",
  "contexts",
  "context",
  "current-context",
  "namespace",
  "token",
  "provideClusterInfo",
);
// Characters that make YAML quote, escape, fold or misread a string.
const tricky = fc.constantFrom(
  ..."a b-:#'\"\\{}[],&*!|>?%@`~\n\t0.1eE+xy_é€😀".split(""),
  "\u0000",
  "\u0007",
  "\u001b",
  "\u007f",
  "\u0085",
  "\u00a0",
  "\u2028",
  "\ufeff",
  "\ud800",
  "true",
  "null",
  "0x1",
  "---",
  "...",
  "https://k:6443",
  "- ",
  ": ",
  " #",
);
const text = fc.oneof(
  fc.string({ unit: tricky, maxLength: 12 }),
  fc.string({ unit: fc.constantFrom("word ", "a", "b", " ", "\n", "  "), maxLength: 60 }),
  fc.constantFrom("", " ", "~", "null", "True", "0123", "1e5", "-.inf", "2024-01-01", "yes", "=", "<<", "-", "?", ca),
  fc.base64String({ maxLength: 200 }),
  fc.string(),
  fc.string({ unit: "binary", maxLength: 20 }),
);
const scalar = fc.oneof(text, fc.boolean(), fc.integer(), fc.double(), fc.constant(null));
const key = fc.oneof({ weight: 3, arbitrary: word }, { weight: 1, arbitrary: fc.string({ unit: tricky, maxLength: 8 }) });
const { node } = fc.letrec<{ node: unknown; list: unknown[]; map: Record<string, unknown> }>((tie) => ({
  node: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalar, tie("list"), tie("map")),
  list: fc.array(tie("node"), { maxLength: 4 }),
  map: fc.dictionary(key, tie("node"), { maxKeys: 5 }),
}));
const kubeconfig = fc.dictionary(key, node, { minKeys: 1, maxKeys: 6 });

const styles: DumpOptions[] = [
  {},
  { noArrayIndent: true },
  { flowLevel: 0 },
  { flowLevel: 2 },
  { quotingType: '"' },
  { forceQuotes: true },
  { forceQuotes: true, quotingType: '"' },
  { indent: 4 },
  { lineWidth: 20 },
  { lineWidth: -1 },
];

function jsYamlLoad(text: string): { value: unknown } | { error: unknown } {
  try {
    return { value: load(text) };
  } catch (error) {
    return { error };
  }
}

describe("YAML reader on what js-yaml dumps", () => {
  for (const style of styles) {
    it(`reads back random kubeconfig-like objects dumped with ${JSON.stringify(style)}`, () => {
      fc.assert(
        fc.property(kubeconfig, (value) => {
          const text = dump(value, { ...style, noRefs: true });
          const theirs = jsYamlLoad(text);
          if ("value" in theirs && isDeepStrictEqual(theirs.value, value)) expect(parseYaml(text)).toEqual(value);
          else {
            // js-yaml's dumper got it wrong (e.g. a plain "a:]" in a flow map): refusing the text is fine, and so is
            // reading it as js-yaml's loader does; anything else is not.
            let ours: unknown;
            try {
              ours = parseYaml(text);
            } catch {
              return;
            }
            expect(theirs).toEqual({ value: ours });
          }
        }),
        { numRuns: 500 },
      );
    });
  }

  it("reads back random objects as JSON, indented and not", () => {
    fc.assert(
      fc.property(kubeconfig, fc.constantFrom(undefined, 2, "\t"), (value, indent) => {
        const json = JSON.stringify(value, null, indent);
        expect(parseYaml(json)).toEqual(JSON.parse(json));
      }),
      { numRuns: 500 },
    );
  });
});

describe("YAML reader refuses what it does not read, naming the line", () => {
  const refusals: [string, string][] = [
    ["clusters:\n- name: a\n\tcluster: {}\n", "line 3, column 1: tabs cannot indent YAML"],
    ['a: 1\nb: "open\nc: 2\n', "line 2, column 4: unterminated quoted string"],
    ["a: 'open\n  still open\n", "line 1, column 4: unterminated quoted string"],
    ['args: ["a", "b"\n', "line 2, column 1: unterminated flow collection"],
    ["a: &anchor 1\n", "line 1, column 4: anchors (&) are not supported"],
    ["a: 1\nb: *anchor\n", "line 2, column 4: aliases (*) are not supported"],
    ["- &a {x: 1}\n", "line 1, column 3: anchors (&) are not supported"],
    ["a: !!str 1\n", "line 1, column 4: tags (!) are not supported"],
    ["base: {x: 1}\nother:\n  <<: {y: 2}\n", "line 3, column 3: merge keys (<<) are not supported"],
    ["? a\n: b\n", "line 1, column 1: explicit keys (?) are not supported"],
    ["%YAML 1.2\n---\na: 1\n", "line 1, column 1: directives (%) are not supported"],
    ["a: 1\nb: 2\na: 3\n", 'line 3, column 1: duplicate key "a"'],
    ["a: 1\n---\nb: 2\n", "line 2, column 1: only one document is supported"],
    ["a:\n  b: 1\n c: 2\n", "line 3, column 2: bad indentation"],
    ["a: b: c\n", "line 1, column 4: a mapping cannot start on the line of its key"],
    ["a: - b\n", "line 1, column 4: a sequence cannot start on the line of its key"],
    ['a: "x" y\n', 'line 1, column 8: unexpected "y"'],
    ['a: "\\q"\n', "line 1, column 6: unknown escape \\q"],
    ["a: [b: c]\n", "line 1, column 6: key: value pairs inside [ ] are not supported"],
    ["a: {[b]: c}\n", "line 1, column 5: a collection as a mapping key is not supported"],
    ["a: ]\n", 'line 1, column 4: unexpected "]"'],
    ["a: |x\n  b\n", "line 1, column 5: bad block scalar header"],
  ];
  for (const [yaml, message] of refusals) {
    it(`refuses ${JSON.stringify(yaml)}`, () => {
      expect(() => parseYaml(yaml)).toThrow(message);
    });
  }
});

import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    reporters: ["default", "./test/harness/summary-reporter.ts"],
    projects: [
      {
        test: {
          name: "unit",
          sequence: { groupOrder: 0 },
          include: ["test/unit/**/*.test.ts"],
        },
      },
      {
        test: {
          name: "integration",
          sequence: { groupOrder: 1 },
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/harness/global-setup.ts"],
          setupFiles: ["test/harness/after-failure.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "realnode",
          // After the other suites, not beside them: the node takes both cores while it starts pods.
          sequence: { groupOrder: 2 },
          include: ["test/realnode/**/*.test.ts"],
          globalSetup: ["test/harness/realnode-setup.ts"],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // One bed (three real nodes, docs/testbed-multinode.md) per machine: its suites run one after another.
          fileParallelism: false,
        },
      },
    ],
  },
});

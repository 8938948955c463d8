import { describe, expect, it } from "vitest";

import { observePod, observeSandbox, sandboxPodName, type PodLike } from "./status";

const spec = {
  containers: [
    {
      name: "sandbox",
      image: "registry.example/hangar-sandbox:1",
      resources: { limits: { memory: "512Mi" } },
    },
  ],
};

function pod(status: PodLike["status"], extra: Partial<PodLike> = {}): PodLike {
  return { metadata: { name: "hangar-sess-1" }, spec, status, ...extra };
}

describe("observePod: the pod's real signals become a state and a sentence", () => {
  it("is starting while scheduled and creating, running once the main container runs", () => {
    expect(observePod(pod({ phase: "Pending" }))).toEqual({ state: "starting" });
    expect(
      observePod(
        pod({
          phase: "Pending",
          containerStatuses: [{ name: "sandbox", state: { waiting: { reason: "ContainerCreating" } } }],
        }),
      ),
    ).toEqual({ state: "starting" });
    expect(
      observePod(pod({ phase: "Running", containerStatuses: [{ name: "sandbox", state: { running: {} } }] })),
    ).toEqual({ state: "running" });
  });

  it("names the image when it cannot be pulled", () => {
    const seen = observePod(
      pod({
        phase: "Pending",
        containerStatuses: [
          {
            name: "sandbox",
            state: {
              waiting: {
                reason: "ImagePullBackOff",
                message: 'Back-off pulling image "registry.example/hangar-sandbox:1"',
              },
            },
          },
        ],
      }),
    );
    expect(seen.state).toBe("exited");
    expect(seen.reason).toMatch(
      /image registry\.example\/hangar-sandbox:1 could not be pulled \(ImagePullBackOff: Back-off/,
    );
  });

  it("keeps waiting, with the scheduler's words, while no node fits", () => {
    const seen = observePod(
      pod({
        phase: "Pending",
        conditions: [
          {
            type: "PodScheduled",
            status: "False",
            reason: "Unschedulable",
            message: "0/3 nodes are available: 3 Insufficient memory.",
          },
        ],
      }),
    );
    expect(seen).toEqual({
      state: "starting",
      waiting: "waiting for a node: 0/3 nodes are available: 3 Insufficient memory.",
    });
  });

  it("says out of memory, with the limit, for an OOM kill", () => {
    const seen = observePod(
      pod({
        phase: "Failed",
        containerStatuses: [
          { name: "sandbox", state: { terminated: { exitCode: 137, reason: "OOMKilled" } } },
        ],
      }),
    );
    expect(seen).toMatchObject({
      state: "exited",
      exitCode: 137,
      reason: "the sandbox ran out of memory (OOMKilled, limit 512Mi)",
    });
  });

  it("reports the exit code of the main process and a failed init container", () => {
    expect(
      observePod(
        pod({
          phase: "Failed",
          containerStatuses: [{ name: "sandbox", state: { terminated: { exitCode: 3, reason: "Error" } } }],
        }),
      ),
    ).toMatchObject({
      state: "exited",
      exitCode: 3,
      reason: "the sandbox's main process exited with code 3",
    });
    expect(
      observePod(
        pod({
          phase: "Pending",
          initContainerStatuses: [
            { name: "boot-files", state: { terminated: { exitCode: 1, message: "cat: no such file" } } },
          ],
        }),
      ).reason,
    ).toBe("the sandbox could not be prepared (boot-files exited with code 1: cat: no such file)");
  });

  it("explains a missing Secret or a deadline", () => {
    expect(
      observePod(
        pod({
          phase: "Pending",
          containerStatuses: [
            {
              name: "sandbox",
              state: { waiting: { reason: "CreateContainerConfigError", message: 'secret "x" not found' } },
            },
          ],
        }),
      ).reason,
    ).toBe('the sandbox container could not start (CreateContainerConfigError: secret "x" not found)');
    expect(observePod(pod({ phase: "Failed", reason: "DeadlineExceeded" })).reason).toBe(
      "the sandbox reached its time limit",
    );
  });
});

describe("observeSandbox: agent-sandbox conditions (no phase field)", () => {
  const running = pod({ phase: "Running", containerStatuses: [{ name: "sandbox", state: { running: {} } }] });

  it("is running when Ready is True", () => {
    expect(
      observeSandbox(
        { status: { conditions: [{ type: "Ready", status: "True", reason: "DependenciesReady" }] } },
        running,
      ),
    ).toEqual({ state: "running" });
  });

  it("ends on Finished, expiry and suspension", () => {
    expect(
      observeSandbox(
        { status: { conditions: [{ type: "Finished", status: "True", reason: "PodFailed" }] } },
        null,
      ),
    ).toEqual({
      state: "exited",
      reason: "the sandbox pod failed",
    });
    expect(
      observeSandbox(
        { status: { conditions: [{ type: "Ready", status: "False", reason: "SandboxExpired" }] } },
        null,
      ).reason,
    ).toBe("the sandbox reached its time limit");
    expect(
      observeSandbox(
        { status: { conditions: [{ type: "Ready", status: "False", reason: "SandboxSuspended" }] } },
        null,
      ).reason,
    ).toBe("the sandbox was suspended");
  });

  it("prefers the pod's container detail (OOM) over the Sandbox's summary", () => {
    const oom = pod({
      phase: "Failed",
      containerStatuses: [{ name: "sandbox", state: { terminated: { exitCode: 137, reason: "OOMKilled" } } }],
    });
    expect(
      observeSandbox(
        { status: { conditions: [{ type: "Finished", status: "True", reason: "PodFailed" }] } },
        oom,
      ).reason,
    ).toMatch(/out of memory/);
  });

  it("surfaces an unschedulable pod through the mirrored PodScheduled condition before a pod exists", () => {
    expect(
      observeSandbox(
        {
          status: {
            conditions: [
              {
                type: "PodScheduled",
                status: "False",
                reason: "Unschedulable",
                message: "0/1 nodes are available",
              },
            ],
          },
        },
        null,
      ),
    ).toEqual({ state: "starting", waiting: "waiting for a node: 0/1 nodes are available" });
  });

  it("finds a warm-pool pod through the pod-name annotation", () => {
    expect(
      sandboxPodName(
        { metadata: { annotations: { "agents.x-k8s.io/pod-name": "pool-abc" } } },
        "hangar-sess-1",
      ),
    ).toBe("pool-abc");
    expect(sandboxPodName({ metadata: {} }, "hangar-sess-1")).toBe("hangar-sess-1");
  });
});

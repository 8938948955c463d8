"use client";

import { Play } from "lucide-react";
import { useId, useState } from "react";

import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Select } from "@/components/ui/select";

import { NewSessionDialog } from "./new-session-dialog";

type AgentOption = { id: string; name: string | null };

/** "New session" on the sessions list: pick the agent, then the same dialog as the agent page. */
export function StartSessionButton({ agents }: { agents: AgentOption[] }) {
  const id = useId();
  const [picking, setPicking] = useState(false);
  const [agentId, setAgentId] = useState("");
  const [chosen, setChosen] = useState<AgentOption | null>(null);
  const selected = agents.find((a) => a.id === agentId) ?? agents[0] ?? null;

  return (
    <>
      <Button size="sm" variant="primary" disabled={agents.length === 0} onClick={() => setPicking(true)}>
        <Play size={14} aria-hidden />
        New session
      </Button>
      {picking && (
        <Dialog
          open
          onClose={() => setPicking(false)}
          title="New session"
          footer={
            <>
              <Button onClick={() => setPicking(false)}>Cancel</Button>
              <Button variant="primary" type="submit" form={`${id}-form`} disabled={!selected}>
                Continue
              </Button>
            </>
          }
        >
          <form
            id={`${id}-form`}
            className="flex flex-col gap-1.5"
            onSubmit={(e) => {
              e.preventDefault();
              if (!selected) return;
              setPicking(false);
              setChosen(selected);
            }}
          >
            <label htmlFor={`${id}-agent`} className="text-xs font-medium">
              Agent
            </label>
            <Select
              id={`${id}-agent`}
              value={selected?.id ?? ""}
              onChange={(e) => setAgentId(e.target.value)}
              autoFocus
            >
              {agents.map((agent) => (
                <option key={agent.id} value={agent.id}>
                  {agent.name ?? agent.id}
                </option>
              ))}
            </Select>
          </form>
        </Dialog>
      )}
      {chosen && (
        <NewSessionDialog
          agentId={chosen.id}
          agentName={chosen.name ?? "Untitled agent"}
          onClose={() => setChosen(null)}
        />
      )}
    </>
  );
}

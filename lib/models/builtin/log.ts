import type { GatewayApi, GatewayRequest } from "./types";

export type RequestFilter = { session?: string; api?: GatewayApi };

function matches(entry: GatewayRequest, filter: RequestFilter): boolean {
  return (
    (filter.session === undefined || entry.session === filter.session) &&
    (filter.api === undefined || entry.api === filter.api)
  );
}

/** The last `capacity` requests, oldest first. Entries are updated in place while a reply streams. */
export class RequestLog {
  private entries: GatewayRequest[] = [];
  private nextId = 1;

  constructor(private readonly capacity: number) {}

  add(entry: Omit<GatewayRequest, "id">): GatewayRequest {
    const stored = { id: this.nextId++, ...entry };
    this.entries.push(stored);
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
    return stored;
  }

  list(filter: RequestFilter = {}): GatewayRequest[] {
    return this.entries.filter((e) => matches(e, filter)).map((e) => structuredClone(e));
  }

  clear(filter: RequestFilter = {}) {
    this.entries = this.entries.filter((e) => !matches(e, filter));
  }
}

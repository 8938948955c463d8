import type { BuiltinApi, BuiltinRequest } from "./types";

export type RequestFilter = { session?: string; api?: BuiltinApi };

function matches(entry: BuiltinRequest, filter: RequestFilter): boolean {
  return (
    (filter.session === undefined || entry.session === filter.session) &&
    (filter.api === undefined || entry.api === filter.api)
  );
}

/** The last `capacity` requests, oldest first. Entries are updated in place while a reply streams. */
export class RequestLog {
  private entries: BuiltinRequest[] = [];
  private nextId = 1;

  constructor(private readonly capacity: number) {}

  add(entry: Omit<BuiltinRequest, "id">): BuiltinRequest {
    const stored = { id: this.nextId++, ...entry };
    this.entries.push(stored);
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
    return stored;
  }

  list(filter: RequestFilter = {}): BuiltinRequest[] {
    return this.entries.filter((e) => matches(e, filter)).map((e) => structuredClone(e));
  }

  clear(filter: RequestFilter = {}) {
    this.entries = this.entries.filter((e) => !matches(e, filter));
  }
}

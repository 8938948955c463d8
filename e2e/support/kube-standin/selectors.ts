import { errors } from "./status";

/*
 * Label selectors (`a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, comma = AND) and field
 * selectors (`path=value`, `path!=value` over dotted object paths such as metadata.name or
 * involvedObject.name; the real server only allows a fixed set of fields per resource).
 */

export type Matcher = (obj: KubeObject) => boolean;

export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name?: string;
    generateName?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    deletionGracePeriodSeconds?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
    ownerReferences?: OwnerReference[];
    [key: string]: unknown;
  };
  spec?: any;
  status?: any;
  [key: string]: unknown;
};

export type OwnerReference = {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
};

/** Splits on commas that are not inside parentheses. */
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of selector) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      terms.push(current);
      current = "";
    } else current += ch;
  }
  terms.push(current);
  return terms.map((t) => t.trim()).filter(Boolean);
}

const KEY = /^([A-Za-z0-9][-A-Za-z0-9_./]*)?[A-Za-z0-9]$/;

export function parseLabelSelector(selector: string | null): Matcher {
  if (!selector) return () => true;
  const tests = splitTerms(selector).map((term): ((labels: Record<string, string>) => boolean) => {
    const set = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    if (set) {
      const [, key, op, list] = set;
      const values = list!.split(",").map((v) => v.trim());
      return op === "in"
        ? (l) => key! in l && values.includes(l[key!]!)
        : (l) => !(key! in l) || !values.includes(l[key!]!);
    }
    const cmp = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
    if (cmp) {
      const [, key, op, value] = cmp;
      return op === "!=" ? (l) => l[key!] !== value : (l) => l[key!] === value;
    }
    if (term.startsWith("!") && KEY.test(term.slice(1).trim())) {
      const key = term.slice(1).trim();
      return (l) => !(key in l);
    }
    if (KEY.test(term)) return (l) => term in l;
    throw errors.badRequest(`unable to parse requirement: found '${term}', expected: valid label selector`);
  });
  return (obj) => tests.every((t) => t(obj.metadata.labels ?? {}));
}

export function parseFieldSelector(selector: string | null): Matcher {
  if (!selector) return () => true;
  const tests = splitTerms(selector).map((term) => {
    const m = /^([A-Za-z0-9.]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw errors.badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    const [, field, op, value] = m;
    return (obj: KubeObject) => {
      let v: unknown = obj;
      for (const part of field!.split(".")) v = (v as Record<string, unknown> | undefined)?.[part];
      const s = v === undefined || v === null ? "" : String(v);
      return op === "!=" ? s !== value : s === value;
    };
  });
  return (obj) => tests.every((t) => t(obj));
}

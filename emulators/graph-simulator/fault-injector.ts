import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { FaultView, faultInputSchema } from './control-schemas.js';
import { mulberry32, type Rng } from './seeded-random.js';

type FaultKind = FaultView['kind'];
type FaultTarget = FaultView['target'];

interface FaultRule {
  id: string;
  kind: FaultKind;
  target: FaultTarget;
  tenantId: string | null;
  pathContains: string | null;
  remaining: number | null;
  rate: number | null;
  rng: Rng;
  retryAfterSeconds: number | null;
  latencyMs: number | null;
  fired: number;
}

export interface FaultContext {
  target: 'graph' | 'identity';
  path: string;
  /** Tenant GUID and, when the request named one, the domain it used. */
  tenantKeys: readonly string[];
}

export interface FaultDecision {
  latencyMs: number;
  failure: { kind: Exclude<FaultKind, 'latency'>; retryAfterSeconds: number | null } | null;
}

/** Injected throttling, outages and latency; rules are checked in the order they were added. */
export class FaultInjector {
  private rules: FaultRule[] = [];
  readonly fired: Record<FaultKind, number> = { throttle: 0, unavailable: 0, gatewayTimeout: 0, latency: 0 };

  add(input: z.output<typeof faultInputSchema>): FaultView {
    const rule: FaultRule = {
      id: randomUUID(),
      kind: input.kind,
      target: input.target,
      tenantId: input.tenantId?.toLowerCase() ?? null,
      pathContains: input.pathContains ?? null,
      remaining: input.count ?? null,
      rate: input.rate ?? null,
      rng: mulberry32(input.seed ?? 0x5eed),
      retryAfterSeconds: input.retryAfterSeconds ?? (input.kind === 'throttle' ? 1 : null),
      latencyMs: input.latencyMs ?? (input.kind === 'latency' ? 100 : null),
      fired: 0,
    };
    this.rules.push(rule);
    return view(rule);
  }

  list(): FaultView[] {
    return this.rules.map(view);
  }

  clear(): void {
    this.rules = [];
  }

  resetCounters(): void {
    for (const kind of Object.keys(this.fired) as FaultKind[]) this.fired[kind] = 0;
  }

  decide(ctx: FaultContext): FaultDecision {
    const decision: FaultDecision = { latencyMs: 0, failure: null };
    for (const rule of this.rules) {
      if (rule.kind !== 'latency' && decision.failure) continue;
      if (!matches(rule, ctx)) continue;
      if (rule.rate !== null && rule.rng.next() >= rule.rate) continue;
      rule.fired++;
      this.fired[rule.kind]++;
      if (rule.remaining !== null) rule.remaining--;
      if (rule.kind === 'latency') decision.latencyMs += rule.latencyMs ?? 0;
      else decision.failure = { kind: rule.kind, retryAfterSeconds: rule.retryAfterSeconds };
    }
    this.rules = this.rules.filter((rule) => rule.remaining === null || rule.remaining > 0);
    return decision;
  }
}

function matches(rule: FaultRule, ctx: FaultContext): boolean {
  if (rule.remaining !== null && rule.remaining <= 0) return false;
  if (rule.target !== 'any' && rule.target !== ctx.target) return false;
  if (rule.tenantId !== null && !ctx.tenantKeys.includes(rule.tenantId)) return false;
  return rule.pathContains === null || ctx.path.includes(rule.pathContains);
}

function view(rule: FaultRule): FaultView {
  return {
    id: rule.id,
    kind: rule.kind,
    target: rule.target,
    tenantId: rule.tenantId,
    pathContains: rule.pathContains,
    remaining: rule.remaining,
    rate: rule.rate,
    retryAfterSeconds: rule.retryAfterSeconds,
    latencyMs: rule.latencyMs,
    fired: rule.fired,
  };
}

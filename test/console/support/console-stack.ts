import { hostSignatureHeaders } from '../../../functions/src/api/host-hmac.js';
import { SimulatorControl, type CreatedWorkspace } from '../../../emulators/workspace-simulator/index.js';
import {
  LOCAL_HMAC_KEY,
  startLocalStack,
  type LocalStack,
  type LocalStackOptions,
} from '../../../scripts/local-stack.js';

/**
 * The real local stack (emulators, Workspace simulator, API and sync functions, console served on one origin)
 * with one seeded Google Workspace and one pending tenant whose owner is that workspace's admin: the state a
 * school district's IT admin finds after the host product has signed them up.
 */
export interface ConsoleStack {
  stack: LocalStack;
  consoleUrl: string;
  control: SimulatorControl;
  workspace: CreatedWorkspace;
  tenantId: string;
  tenantName: string;
  stop(): Promise<void>;
}

export interface ConsoleStackOptions {
  tenantId?: string;
  tenantName?: string;
  size?: { users: number; chromeos: number; mobile: number };
  /** Auto-approve Google consent; off by default so tests see the consent page. */
  autoApprove?: boolean;
  log?: (line: string) => void;
  /** The test run's emulators, shared instead of a second pair. */
  emulators?: LocalStackOptions['emulators'];
}

/** Creates a tenant the way the host product does: POST /api/tenants, HMAC-signed. */
export async function createTenant(
  consoleUrl: string,
  tenant: { tenantId: string; name: string; ownerEmail: string },
) {
  const body = JSON.stringify(tenant);
  const res = await fetch(`${consoleUrl}/api/tenants`, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      ...hostSignatureHeaders(LOCAL_HMAC_KEY, { method: 'POST', path: '/api/tenants', rawBody: body }),
    },
  });
  if (!res.ok) throw new Error(`creating tenant ${tenant.tenantId}: ${res.status} ${await res.text()}`);
}

export async function startConsoleStack(opts: ConsoleStackOptions = {}): Promise<ConsoleStack> {
  const stack = await startLocalStack({
    ports: 'auto',
    autoApprove: opts.autoApprove ?? false,
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.emulators ? { emulators: opts.emulators } : {}),
  });
  try {
    const control = new SimulatorControl(stack.simulatorUrl);
    const size = opts.size ?? { users: 40, chromeos: 30, mobile: 8 };
    const workspace = await control.createWorkspace({ domain: 'lincoln-schools.example', seed: 7, ...size });
    const tenantId = opts.tenantId ?? 'lincoln';
    const tenantName = opts.tenantName ?? 'Lincoln Unified School District';
    await createTenant(stack.consoleUrl, { tenantId, name: tenantName, ownerEmail: workspace.adminEmail });
    return {
      stack,
      consoleUrl: stack.consoleUrl,
      control,
      workspace,
      tenantId,
      tenantName,
      stop: () => stack.stop(),
    };
  } catch (err) {
    await stack.stop();
    throw err;
  }
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorHandle } from '../../emulators/workspace-simulator/index.js';
import {
  READONLY_DIRECTORY_SCOPES,
  SimulatorControl,
  startWorkspaceSimulator,
} from '../../emulators/workspace-simulator/index.js';
import { directoryClient, simulatorOAuthClient } from './helpers.js';

let sim: SimulatorHandle;

beforeAll(async () => {
  sim = await startWorkspaceSimulator({ port: 0 });
});

afterAll(async () => {
  await sim.close();
});

describe('scale', () => {
  it('seeds 200,000 users + 50,000 Chromebooks quickly and serves deep pages', async () => {
    const control = new SimulatorControl(sim.url);
    const t0 = performance.now();
    const ws = await control.createWorkspace({
      domain: 'huge-district.example',
      users: 200_000,
      chromeos: 50_000,
      mobile: 100,
    });
    const seedMs = performance.now() - t0;
    // Generous bound: CI machines are shared; locally this takes ~2-5 s.
    expect(seedMs).toBeLessThan(25_000);
    const summary = await control.getWorkspace(ws.customerId);
    expect(summary).toMatchObject({ users: 200_000, chromeos: 50_000 });

    const token = await control.issueToken({
      customerId: ws.customerId,
      scopes: [...READONLY_DIRECTORY_SCOPES],
    });
    const auth = simulatorOAuthClient(sim);
    auth.setCredentials({ access_token: token.access_token, expiry_date: token.expiry_date });
    const admin = directoryClient(sim, auth);
    const page1 = await admin.users.list({
      customer: 'my_customer',
      maxResults: 500,
      fields: 'nextPageToken,users(id)',
    });
    expect(page1.data.users).toHaveLength(500);
    const page2 = await admin.users.list({
      customer: 'my_customer',
      maxResults: 500,
      pageToken: page1.data.nextPageToken ?? '',
      fields: 'nextPageToken,users(id)',
    });
    expect(
      page2.data.users?.[0]?.id &&
        page1.data.users?.[499]?.id &&
        page2.data.users[0].id > page1.data.users[499].id,
    ).toBe(true);
    const devices = await admin.chromeosdevices.list({
      customerId: 'my_customer',
      maxResults: 300,
      orderBy: 'serialNumber',
    });
    expect(devices.data.chromeosdevices).toHaveLength(300);
  });
});

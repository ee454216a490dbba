import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { chooseMode, EmulatorSetupError } from '../../emulators/launcher/launcher.js';
import { parseJavaVersion } from '../../emulators/launcher/toolchain.js';
import { readEmulatorEndpoints } from '../../emulators/launcher/emulator-config.js';

async function answers(hostPort: string): Promise<boolean> {
  try {
    return (await fetch(`http://${hostPort}/`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

describe('emulator launcher', () => {
  it('reads emulator hosts and ports from firebase.json', () => {
    const e = readEmulatorEndpoints();
    expect(e.firestore.port).toBeGreaterThan(0);
    expect(e.pubsub.port).toBeGreaterThan(0);
    expect(e.firestore.port).not.toBe(e.pubsub.port);
  });

  it('parses java versions of old and new formats', () => {
    expect(parseJavaVersion('openjdk version "17.0.15" 2025-04-15')).toBe(17);
    expect(parseJavaVersion('java version "1.8.0_361"')).toBe(8);
    expect(parseJavaVersion('openjdk version "21" 2023-09-19')).toBe(21);
    expect(parseJavaVersion('nonsense')).toBeNull();
  });

  it('prefers firebase-tools on Java 21+, falls back to gcloud binaries, and names what to install', () => {
    expect(chooseMode(21, true, true)).toBe('firebase');
    expect(chooseMode(17, true, true)).toBe('gcloud');
    expect(() => chooseMode(null, true, true)).toThrow(/install a JRE/);
    expect(() => chooseMode(17, false, true)).toThrow(EmulatorSetupError);
    expect(() => chooseMode(17, false, true)).toThrow(/cloud-firestore-emulator pubsub-emulator/);
  });

  it('leaves no emulator behind when the process that launched it is SIGKILLed', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'emulators/launcher/cli.ts', '--auto-ports'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const env = await new Promise<Record<string, string>>((resolve, reject) => {
      let out = '';
      const found: Record<string, string> = {};
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        for (const m of out.matchAll(/export (\w+)=(\S+)/g)) found[m[1]!] = m[2]!;
        if (found.FIRESTORE_EMULATOR_HOST && found.PUBSUB_EMULATOR_HOST) resolve(found);
      });
      child.once('exit', (code) => reject(new Error(`launcher exited early (${code}): ${out}`)));
    });
    expect(await answers(env.FIRESTORE_EMULATOR_HOST!)).toBe(true);
    expect(await answers(env.PUBSUB_EMULATOR_HOST!)).toBe(true);

    child.kill('SIGKILL');
    const deadline = Date.now() + 20_000;
    let alive = true;
    while (alive && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      alive = (await answers(env.FIRESTORE_EMULATOR_HOST!)) || (await answers(env.PUBSUB_EMULATOR_HOST!));
    }
    expect(alive).toBe(false);
  }, 90_000);
});

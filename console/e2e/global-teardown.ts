import { rmSync } from 'node:fs';

export default async function teardown() {
  for (const pid of [process.env.SLUICE_E2E_VITE_PID, process.env.SLUICE_E2E_PID]) {
    if (!pid) continue;
    try {
      process.kill(Number(pid), 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
  await new Promise((r) => setTimeout(r, 500));
  if (process.env.SLUICE_E2E_DATA) rmSync(process.env.SLUICE_E2E_DATA, { recursive: true, force: true });
}

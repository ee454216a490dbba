/**
 * Every deployed function and the module that registers it alone. The deployed package's "main" (main.ts)
 * loads only the entry of the function the instance serves; index.ts loads them all (local stack, tests).
 * test/infra/deploy-artifacts.test.ts checks that deploy.sh deploys exactly these.
 */
export const ENTRY_POINTS = {
  api: () => import('./api.js'),
  tick: () => import('./tick.js'),
  syncEntity: () => import('./syncEntity.js'),
  deadLetter: () => import('./deadLetter.js'),
  deliverNotifications: () => import('./deliverNotifications.js'),
} as const;

export type FunctionName = keyof typeof ENTRY_POINTS;

export function isFunctionName(name: string | undefined): name is FunctionName {
  return name !== undefined && Object.hasOwn(ENTRY_POINTS, name);
}

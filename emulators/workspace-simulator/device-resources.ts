import { etagFor } from './etag.js';
import type { ApiChromeOsDevice, ApiMobileDevice, ChromeOsRecord, MobileRecord } from './model.js';
import { CHROMEBOOK_MODELS, FIRMWARE_BOARDS } from './name-pools.js';
import { hash32, mulberry32, randomDigits, randomHex, randomUpperAlnum } from './prng.js';
import type { Workspace } from './workspace.js';

export type DeviceProjection = 'BASIC' | 'FULL';

const DAY_MS = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const isoDate = (ms: number) => iso(ms).slice(0, 10);
const mac = (hex: string) => hex.toLowerCase();

/** Fields only served with projection=FULL (reports and per-session telemetry). */
const CHROME_FULL_ONLY = new Set<string>([
  'recentUsers',
  'activeTimeRanges',
  'cpuStatusReports',
  'systemRamFreeReports',
  'diskVolumeReports',
  'lastKnownNetwork',
  'tpmVersionInfo',
  'cpuInfo',
  'screenshotFiles',
  'deviceFiles',
  'osUpdateStatus',
  'diskSpaceUsage',
  'backlightInfo',
  'fanInfo',
  'bluetoothAdapterInfo',
]);

function chromeBody(ws: Workspace, d: ChromeOsRecord): ApiChromeOsDevice {
  const rng = mulberry32(d.detailSeed);
  // Support windows are per model, as in Google's auto-update policy table.
  const modelIndex = Math.max(0, CHROMEBOOK_MODELS.indexOf(d.model as (typeof CHROMEBOOK_MODELS)[number]));
  const modelRng = mulberry32(hash32(d.model));
  const aueYear = 2026 + (modelIndex % 6) + modelRng.int(2);
  const aue = Date.UTC(aueYear, 5, 1, 7);
  const board = FIRMWARE_BOARDS[modelIndex % FIRMWARE_BOARDS.length] ?? 'Dedede';
  const major = 118 + rng.int(10);
  const body: ApiChromeOsDevice = {
    kind: 'admin#directory#chromeosdevice',
    deviceId: d.deviceId,
    serialNumber: d.serialNumber,
    status: d.status,
    lastSync: iso(d.lastSync),
    supportEndDate: iso(aue),
  };
  if (d.annotatedUser !== undefined) body.annotatedUser = d.annotatedUser;
  if (d.annotatedLocation !== undefined) body.annotatedLocation = d.annotatedLocation;
  if (d.notes !== undefined) body.notes = d.notes;
  body.model = d.model;
  if (rng.chance(0.1)) body.meid = randomDigits(rng, 15);
  if (d.annotatedAssetId !== undefined) body.annotatedAssetId = d.annotatedAssetId;
  if (rng.chance(0.3)) body.orderNumber = randomDigits(rng, 10);
  body.willAutoRenew = false;
  body.osVersion = `${major}.0.${6000 + major * 3}.${rng.range(10, 250)}`;
  body.platformVersion = `${15000 + (major - 110) * 120 + rng.int(50)}.${rng.int(80)}.0 (Official Build) stable-channel ${board.toLowerCase()}`;
  body.firmwareVersion = `Google_${board}.${13000 + rng.int(3000)}.${rng.int(600)}.0`;
  body.macAddress = mac(randomHex(rng, 12));
  body.bootMode = rng.chance(0.02) ? 'Dev' : 'Verified';
  body.lastEnrollmentTime = iso(d.lastEnrollmentTime);
  body.firstEnrollmentTime = iso(d.firstEnrollmentTime);
  body.orgUnitPath = ws.ouPath(d.ouId);
  body.orgUnitId = ws.orgUnit(d.ouId)?.orgUnitId.replace(/^id:/, '') ?? '';
  if (rng.chance(0.25)) body.ethernetMacAddress = mac(randomHex(rng, 12));
  if (rng.chance(0.15)) body.ethernetMacAddress0 = randomHex(rng, 12).toUpperCase();
  body.manufactureDate = isoDate(d.firstEnrollmentTime - rng.range(30, 300) * DAY_MS);
  // The API really serves this one as epoch milliseconds in a string.
  body.autoUpdateExpiration = String(aue);
  body.autoUpdateThrough = iso(aue);
  body.chromeOsType = 'chromeOs';
  body.deviceLicenseType = rng.chance(0.9) ? 'education' : 'educationUpgrade';
  body.extendedSupportEligible = aueYear <= 2027;
  if (d.status === 'DEPROVISIONED') {
    body.deprovisionReason = rng.pick(['retiring_device', 'same_model_replacement', 'upgrade_transfer']);
    body.lastDeprovisionTimestamp = iso(d.lastSync + DAY_MS);
  }
  body.systemRamTotal = String(rng.pick([4, 8]) * 1024 ** 3);

  if (d.recentUser) body.recentUsers = [{ type: 'USER_TYPE_MANAGED', email: d.recentUser }];
  if (d.status === 'ACTIVE') {
    body.activeTimeRanges = [1, 2, 3].map((ago) => ({
      date: isoDate(d.lastSync - ago * DAY_MS),
      activeTime: rng.range(5, 360) * 60_000,
    }));
    body.cpuStatusReports = [
      {
        reportTime: iso(d.lastSync),
        cpuUtilizationPercentageInfo: [rng.int(100), rng.int(100)],
        cpuTemperatureInfo: [{ label: 'Core 0', temperature: rng.range(35, 70) }],
      },
    ];
    body.systemRamFreeReports = [
      { reportTime: iso(d.lastSync), systemRamFreeInfo: [String(rng.range(1, 3) * 1024 ** 3)] },
    ];
    body.diskVolumeReports = [
      {
        volumeInfo: [
          { volumeId: 'stateful', storageTotal: '32000000000', storageFree: String(rng.range(2, 20) * 1e9) },
        ],
      },
    ];
    body.lastKnownNetwork = [
      { ipAddress: `10.${rng.int(255)}.${rng.int(255)}.${rng.int(255)}`, wanIpAddress: '203.0.113.7' },
    ];
    body.osUpdateStatus = {
      state: 'updateStateNotStarted',
      targetOsVersion: body.osVersion,
      rebootTime: iso(d.lastSync - DAY_MS),
    };
  }
  body.tpmVersionInfo = {
    family: '2.0',
    specLevel: '116',
    manufacturer: rng.pick(['CROS', 'IFX']),
    tpmModel: '1',
    firmwareVersion: randomHex(rng, 16),
    vendorSpecific: randomUpperAlnum(rng, 8),
  };
  if (d.patch) Object.assign(body, d.patch);
  return body;
}

export function renderChromeOs(
  ws: Workspace,
  d: ChromeOsRecord,
  projection: DeviceProjection,
): ApiChromeOsDevice {
  const full = chromeBody(ws, d);
  const etag = etagFor(ws.etagPrefix, full);
  const { kind, ...rest } = full;
  const out: ApiChromeOsDevice = { kind, etag, ...rest };
  if (projection === 'BASIC') {
    for (const key of CHROME_FULL_ONLY) delete (out as Record<string, unknown>)[key];
  }
  return out;
}

/** Sort keys per orderBy value (ISO strings sort chronologically). */
export function chromeSortKey(ws: Workspace, order: string): (d: ChromeOsRecord) => string {
  switch (order) {
    case 'serialNumber':
      return (d) => d.serialNumber.toLowerCase();
    case 'lastSync':
      return (d) => iso(d.lastSync);
    case 'status':
      return (d) => d.status;
    case 'annotatedUser':
      return (d) => (d.annotatedUser ?? '').toLowerCase();
    case 'annotatedLocation':
      return (d) => (d.annotatedLocation ?? '').toLowerCase();
    case 'notes':
      return (d) => (d.notes ?? '').toLowerCase();
    case 'supportEndDate':
      return (d) => String(chromeBody(ws, d).supportEndDate ?? '');
    default:
      return () => '';
  }
}

const MOBILE_BASIC = new Set<string>([
  'kind',
  'etag',
  'resourceId',
  'deviceId',
  'serialNumber',
  'email',
  'name',
  'model',
  'os',
  'type',
  'status',
  'firstSync',
  'lastSync',
  'userAgent',
]);

function mobileBody(d: MobileRecord): ApiMobileDevice {
  const rng = mulberry32(d.detailSeed);
  const android = d.type === 'ANDROID';
  const ios = d.type === 'IOS_SYNC';
  const body: ApiMobileDevice = {
    kind: 'admin#directory#mobiledevice',
    resourceId: d.resourceId,
    deviceId: d.deviceId,
    name: [...d.ownerNames],
    email: [...d.ownerEmails],
    model: d.model,
    os: d.os,
    type: d.type,
    status: d.status,
    firstSync: iso(d.firstSync),
    lastSync: iso(d.lastSync),
  };
  if (d.serialNumber) body.serialNumber = d.serialNumber;
  body.userAgent = android
    ? `Google Apps Device Policy ${rng.range(17, 19)}.${rng.int(90)}.0`
    : ios
      ? `Google Sync/${rng.range(1, 3)}.0 (${d.model}; iOS ${d.os.replace('iOS ', '')})`
      : `${d.model}/${rng.range(10, 16)}.0`;
  if (android || ios) {
    if (rng.chance(0.7)) body.imei = randomDigits(rng, 15);
    if (rng.chance(0.2)) body.meid = randomDigits(rng, 14);
    body.wifiMacAddress = (randomHex(rng, 12).match(/../g) ?? []).join(':');
    body.devicePasswordStatus = rng.chance(0.9) ? 'On' : 'Off';
    body.encryptionStatus = rng.chance(0.95) ? 'Encrypted' : 'Unencrypted';
    body.deviceCompromisedStatus = rng.chance(0.98) ? 'No compromise detected' : 'Compromise detected';
    body.defaultLanguage = rng.pick(['English', 'Spanish', 'English (United Kingdom)']);
    body.networkOperator = rng.pick(['T-Mobile', 'Verizon', 'AT&T', '']);
    body.managedAccountIsOnOwnerProfile = !rng.chance(0.3);
  }
  if (android) {
    body.hardwareId = body.imei ?? randomDigits(rng, 15);
    body.manufacturer = rng.pick(['Google', 'samsung', 'motorola', 'OnePlus']);
    body.brand = body.manufacturer;
    body.hardware = rng.pick(['tensor', 'qcom', 'mt6768']);
    body.buildNumber = `${randomUpperAlnum(rng, 4)}.${randomDigits(rng, 6)}.00${rng.int(9)}`;
    body.kernelVersion = `5.${rng.range(4, 15)}.${rng.int(200)}-android13`;
    body.basebandVersion = `g5300${randomHex(rng, 4)}-${randomDigits(rng, 6)}`;
    body.bootloaderVersion = `slider-1.${rng.int(5)}-${randomDigits(rng, 7)}`;
    body.releaseVersion = d.os.replace('Android ', '');
    body.securityPatchLevel = String(Date.UTC(2025, rng.int(8), 1));
    body.privilege = rng.pick(['Device administrator', 'Profile owner', 'Undefined']);
    body.adbStatus = rng.chance(0.03);
    body.developerOptionsStatus = rng.chance(0.08);
    body.unknownSourcesStatus = rng.chance(0.05);
    body.supportsWorkProfile = true;
    body.otherAccountsInfo = rng.chance(0.5) ? [`${randomHex(rng, 6)}@gmail.example`] : [];
    body.applications = [
      {
        packageName: 'com.google.android.apps.docs',
        displayName: 'Drive',
        versionName: `2.25.${rng.int(400)}`,
        versionCode: rng.range(100000, 999999),
        permission: ['android.permission.INTERNET'],
      },
    ];
  } else if (ios) {
    body.manufacturer = 'Apple Inc.';
    body.brand = 'Apple';
  }
  if (d.patch) Object.assign(body, d.patch);
  return body;
}

export function renderMobile(ws: Workspace, d: MobileRecord, projection: DeviceProjection): ApiMobileDevice {
  const full = mobileBody(d);
  const etag = etagFor(ws.etagPrefix, full);
  const { kind, ...rest } = full;
  const out: ApiMobileDevice = { kind, etag, ...rest };
  if (projection === 'BASIC') {
    for (const key of Object.keys(out))
      if (!MOBILE_BASIC.has(key)) delete (out as Record<string, unknown>)[key];
  }
  return out;
}

export function mobileSortKey(order: string): (d: MobileRecord) => string {
  switch (order) {
    case 'deviceId':
      return (d) => d.deviceId.toLowerCase();
    case 'email':
      return (d) => (d.ownerEmails[0] ?? '').toLowerCase();
    case 'lastSync':
      return (d) => iso(d.lastSync);
    case 'model':
      return (d) => d.model.toLowerCase();
    case 'name':
      return (d) => (d.ownerNames[0] ?? '').toLowerCase();
    case 'os':
      return (d) => d.os.toLowerCase();
    case 'status':
      return (d) => d.status;
    case 'type':
      return (d) => d.type;
    default:
      return () => '';
  }
}

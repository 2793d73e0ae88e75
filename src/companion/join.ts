// `persona join`: a device made with `init --join` installs the root's answer to its signer request (the certificate
// and the persona's newest list) and becomes an initialized data directory that signs with its own signer.
import { existsSync } from 'node:fs';
import { dataPath, DataDirError, FILES, lockDataDir, repairDataDir } from './datadir.js';
import { openNode } from './node-adapter.js';
import * as P from './persona-port.js';
import { emptyTable, serializeTable } from '../persona/index.js';
import { loadPersonaKey } from '../persona/keys.js';
import { decodeSignerGrant } from '../persona/recovery.js';
import { signerCertText, KeyOpError } from './signer.js';
import { commitFiles } from '../util/fs.js';
import { bytesEqual, bytesToHex } from '../util/bytes.js';
import { useNativeCrypto } from '../crypto/native-sodium.js';

/** What `persona join` installed. */
export interface JoinResult {
  dir: string;
  personaId: string;
  publicKey: string;
  epoch: number;
  devices: P.DeviceView[];
}

/**
 * Installs a signer certificate text in a data directory that waits for one (`init --join`): the certificate must be
 * for this directory's signer key (`NOT_FOR_THIS_DEVICE`) and the list must name this device; certificate, list and an
 * empty table are committed together. Refuses a directory that is already initialized (`ALREADY_INITIALIZED`) or has
 * no pending request (`NOT_INITIALIZED`).
 */
export async function joinDataDir(dir: string, certificateText: string): Promise<JoinResult> {
  useNativeCrypto();
  await P.ready();
  const release = await lockDataDir(dir, { waitMs: 10_000 });
  try {
    await repairDataDir(dir);
    if (existsSync(dataPath(dir, 'signerCert')) || existsSync(dataPath(dir, 'devices'))) {
      throw new DataDirError('ALREADY_INITIALIZED', `${dir} already has a persona; persona join installs the first certificate only`);
    }
    if (!existsSync(dataPath(dir, 'signerKey')) || !existsSync(dataPath(dir, 'profile'))) {
      throw new DataDirError('NOT_INITIALIZED', `${dir} has no signer request; run "tox-persona init --join --dir ${dir}" first`);
    }
    const pass = process.env.TOX_PERSONA_KEY_PASSPHRASE;
    const signer = await loadPersonaKey(dataPath(dir, 'signerKey'), pass ? { passphrase: pass } : {});
    const grant = decodeSignerGrant(certificateText);
    if (!bytesEqual(grant.cert.signerKey, signer.publicKey)) throw new KeyOpError('NOT_FOR_THIS_DEVICE', 'that certificate is for another device\'s signer key');
    const profilePass = process.env.TOX_PERSONA_PASSPHRASE || undefined;
    const node = await openNode({ profilePath: dataPath(dir, 'profile'), ...(profilePass ? { passphrase: profilePass } : {}) });
    const me = node.publicKey;
    await node.close();
    const devices = P.devicesOf(grant.list.list);
    if (!devices.some((d) => d.publicKey === me)) throw new KeyOpError('NOT_FOR_THIS_DEVICE', `the list in that certificate does not name this device (${me.slice(0, 8)}…)`);
    await commitFiles(dir, [
      { name: FILES.signerCert, data: signerCertText(grant.list.list.personaId, grant.epoch, grant.cert) },
      { name: FILES.devices, data: `${JSON.stringify(P.ownListToJson(grant.list), null, 2)}\n` },
      { name: FILES.table, data: serializeTable(emptyTable()) },
    ]);
    return { dir, personaId: bytesToHex(grant.list.list.personaId), publicKey: me, epoch: grant.epoch, devices };
  } finally {
    await release();
  }
}

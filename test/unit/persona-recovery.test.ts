// The texts people copy for the root/signer scheme: the recovery key (checksum, typo located, lenient reading), the
// signer request and the root's certificate text; each damaged form is refused with its code, never a crash.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  decodeRecoveryKey, decodeSignerGrant, decodeSignerRequest, encodeRecoveryKey, encodeSignerGrant, encodeSignerRequest, isRecoveryKeyText,
} from '../../src/persona/recovery.js';
import { personaKeyFromSeed } from '../../src/persona/keys.js';
import { certifySigner, signedRecord } from '../../src/persona/list.js';
import { signOwnChange } from '../../src/persona/own.js';
import { sodium } from '../../src/persona/sodium.js';

const fixed = (label: string) => sodium.crypto_generichash(32, label, null);
const root = personaKeyFromSeed(fixed('alice-root'));

describe('recovery key', () => {
  it('is TPR1 and 12 groups of 5 Crockford characters, and reads back to the same root', () => {
    const text = encodeRecoveryKey(root);
    expect(text).toMatch(/^TPR1(-[0-9A-HJKMNP-TV-Z]{5}){12}$/);
    expect(decodeRecoveryKey(text).publicKey).toEqual(root.publicKey);
    expect(isRecoveryKeyText(text)).toBe(true);
    expect(isRecoveryKeyText('toxpersona-key-1.AAAA')).toBe(false);
  });

  it('is read leniently: lower case, spaces instead of hyphens, O for 0 and I or L for 1', () => {
    const text = encodeRecoveryKey(root);
    const sloppy = `tpr1 ${text.slice(5).toLowerCase().replace(/-/g, ' ').replace(/0/g, 'o').replace(/1/g, 'l')}`;
    expect(decodeRecoveryKey(`  ${sloppy}\n`).publicKey).toEqual(root.publicKey);
  });

  it('a typo is caught by the checksum and located to its group and position, without echoing any character', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 59 }), fc.integer({ min: 1, max: 31 }), (pos, delta) => {
      const text = encodeRecoveryKey(root);
      const body = text.slice(5).replace(/-/g, '');
      const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
      const c = alphabet[(alphabet.indexOf(body[pos]!) + delta) % 32]!;
      const typo = body.slice(0, pos) + c + body.slice(pos + 1);
      let err: any;
      try {
        decodeRecoveryKey(`TPR1${typo}`);
      } catch (e) {
        err = e;
      }
      // A change in the 4 padding bits of the last character is refused as corrupt-or-mistyped too.
      expect(err?.code).toBe('RECOVERY_KEY_MISTYPED');
      if (err.message.includes('looks mistyped')) expect(err.message).toContain(`group ${Math.floor(pos / 5) + 1}, character ${(pos % 5) + 1}`);
      expect(err.message).not.toContain(typo.slice(0, 10));
    }), { numRuns: 200 });
  });

  it('a wrong shape is RECOVERY_KEY_CORRUPT: prefix, length, a character outside the alphabet', () => {
    const text = encodeRecoveryKey(root);
    for (const bad of ['', 'hello', text.slice(0, -1), `${text}A`, text.replace(/^TPR1/, 'TPR2'), `${text.slice(0, -1)}U`]) {
      expect(() => decodeRecoveryKey(bad), bad).toThrow(expect.objectContaining({ code: 'RECOVERY_KEY_CORRUPT' }));
    }
  });
});

describe('signer request and certificate texts', () => {
  const signer = personaKeyFromSeed(fixed('laptop-signer'));
  const device = fixed('laptop-device');

  it('a request carries the signer key, the device key and its name; a damaged copy is SIGNER_TEXT_CORRUPT', () => {
    const text = encodeSignerRequest({ signerKey: signer.publicKey, device, name: 'laptop' });
    expect(decodeSignerRequest(text)).toEqual({ signerKey: signer.publicKey, device, name: 'laptop' });
    expect(decodeSignerRequest(` ${text.slice(0, 30)}\n${text.slice(30)} `).name).toBe('laptop');
    for (const bad of [text.slice(0, -2), text.replace('request-1', 'request-2'), `${text.slice(0, 40)}${text[40] === 'A' ? 'B' : 'A'}${text.slice(41)}`]) {
      expect(() => decodeSignerRequest(bad)).toThrow(expect.objectContaining({ code: 'SIGNER_TEXT_CORRUPT' }));
    }
  });

  it('a certificate text verifies: the list and the root\'s certificate; one for another persona or epoch is refused', () => {
    const cert = certifySigner(root, 3, signer.publicKey);
    const serverSigner = personaKeyFromSeed(fixed('server-signer'));
    const list = signOwnChange(undefined, [{ publicKey: fixed('server-device'), name: '' }, { publicKey: device, name: 'laptop' }], { key: serverSigner, cert: certifySigner(root, 3, serverSigner.publicKey), epoch: 3 }, root.publicKey, 1_767_225_600, 3600);
    const text = encodeSignerGrant({ epoch: 3, cert, list }, signedRecord(list));
    const g = decodeSignerGrant(text);
    expect(g.epoch).toBe(3);
    expect(g.cert.signerKey).toEqual(signer.publicKey);
    expect(g.list.list.devices[1]!.name).toBe('laptop');
    const wrongEpoch = encodeSignerGrant({ epoch: 2, cert, list }, signedRecord(list));
    expect(() => decodeSignerGrant(wrongEpoch)).toThrow(expect.objectContaining({ code: 'SIGNER_TEXT_CORRUPT' }));
    const other = personaKeyFromSeed(fixed('mallory-root'));
    const forged = encodeSignerGrant({ epoch: 3, cert: certifySigner(other, 3, signer.publicKey), list }, signedRecord(list));
    expect(() => decodeSignerGrant(forged)).toThrow(expect.objectContaining({ code: 'SIGNER_TEXT_CORRUPT' }));
    expect(() => decodeSignerGrant('toxpersona-signer-1.AAAA')).toThrow(expect.objectContaining({ code: 'SIGNER_TEXT_CORRUPT' }));
  });
});

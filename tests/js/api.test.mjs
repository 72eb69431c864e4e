// The package's promises to a JS developer (issue #11), each a test of the
// package from JS: typed errors for every misuse of an object, no coercion,
// scanning that skips junk, one stream per object, one hex rule, the same
// rule giving the same answer in every helper, Unix seconds (milliseconds
// refused), options objects, decoded reverts, messages that name the field,
// and objects that own wasm memory freed by `free()` and `using`.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ethers } from 'ethers';
import { throwsCode, unhex, hex, loadPackage, nowSecs } from '../support/helpers.mjs';

const ehr = loadPackage();
const {
  Key, MaskKey, Scanner, RecordEncryptor, RecordDecryptor, EhrchainError, WasmObject,
  sha256, checksumAddress, addressOf, eciesOpen, eciesSeal, issueCertificate, certificateTypedData,
  parseCertificate, verifyCertificate, registerDoctorTx, anchorRecordTx, anchorCommitment,
  signAccessRequest, signUploadRequest, accessRequestTypedData, recordAssociatedData,
  generateRecordKey, generateAnchorSalt, scanAuthorisations, authorisedTopic, decodeRegistryLogs,
  decodeRegistryRevert, revokeDoctorTx, authoriseTx, errorCodes,
} = ehr;

const REGISTRY = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const NOW = nowSecs();

/** A certificate for a fresh doctor, valid [from, until), signed by a fresh authority. */
function certificate({ from = NOW - 60, until = NOW + 3600, serial = 7 } = {}) {
  const authority = Key.generate();
  const doctor = Key.generate();
  const protocol = Key.generate();
  const fields = { doctor: doctor.address, protocolKey: protocol.publicKey(), hospital: "St Mary's", validFrom: from, validUntil: until, serial };
  const json = issueCertificate(authority, fields);
  return { json, fields, authority, doctor, protocol };
}

/** `Trans` from `MaskKey.authorise`, addressed to `protocol`'s key. */
function grantParts(protocol) {
  const mk = MaskKey.generate();
  const patient = Key.generate();
  const parts = mk.authorise(protocol.publicKey(), {
    hospital: "St Mary's", time: NOW, eh: new Uint8Array(32).fill(1), anchorSalt: generateAnchorSalt(), recordType: 'lab',
  }, patient);
  mk.free();
  patient.free();
  return parts;
}

/** The `Authorised` log of `parts` (by default a genuine grant to `protocol`'s key), encoded by ethers. */
function authorisedLog(protocol, seq = 1, parts = grantParts(protocol)) {
  const iface = new ethers.Interface(['event Authorised(uint256 indexed seq, bytes1 viewTag, bytes r, bytes st, bytes c1)']);
  const { data, topics } = iface.encodeEventLog('Authorised', [seq, ethers.toBeHex(parts.viewTag, 1), parts.r, parts.st, parts.c1]);
  assert.equal(topics[0], authorisedTopic());
  return { address: REGISTRY, topics, data, blockNumber: '0x10', transactionHash: '0x' + 'ab'.repeat(32), logIndex: '0x0' };
}

describe('claim 1: every misuse of an object is an EhrchainError with its own code', () => {
  test('using a key after free() is ObjectFreed, for methods, getters and as an argument', () => {
    const key = Key.generate();
    key.free();
    assert.equal(key.freed, true);
    throwsCode(() => key.address, 'ObjectFreed');
    throwsCode(() => key.publicKey(), 'ObjectFreed');
    throwsCode(() => key.signMessage(new Uint8Array(1)), 'ObjectFreed');
    throwsCode(() => eciesOpen(key, new Uint8Array(200)), 'ObjectFreed');
    throwsCode(() => new Scanner(key), 'ObjectFreed');
  });

  test('freeing twice is harmless (free is idempotent, so `using` plus free() is safe)', () => {
    const key = Key.generate();
    key.free();
    assert.doesNotThrow(() => key.free());
    assert.doesNotThrow(() => key[Symbol.dispose]());
    assert.equal(key.freed, true);
  });

  test('new Key() and new MaskKey() are NotConstructible, naming the factories', () => {
    throwsCode(() => new Key(), 'NotConstructible');
    throwsCode(() => new MaskKey(), 'NotConstructible');
    try { new Key(); } catch (e) { assert.match(e.message, /Key\.generate\(\)/); }
  });

  test('reading enc.hash after free() is ObjectFreed', () => {
    const enc = new RecordEncryptor(generateRecordKey(), new Uint8Array());
    enc.push(new Uint8Array(10));
    enc.finish();
    assert.equal(enc.hash.length, 32);
    enc.free();
    throwsCode(() => enc.hash, 'ObjectFreed');
    throwsCode(() => enc.push(new Uint8Array(1)), 'ObjectFreed');
  });

  test('a MaskKey, {}, a string or an imitation where a Key is expected is InvalidArgument naming it', () => {
    const mk = MaskKey.generate();
    for (const wrong of [mk, {}, 'key', 42, null, undefined, Object.create(Key.prototype)]) {
      throwsCode(() => eciesOpen(wrong, new Uint8Array(200)), 'InvalidArgument', `eciesOpen(${String(wrong)})`);
      throwsCode(() => issueCertificate(wrong, certificate().fields), 'InvalidArgument');
      throwsCode(() => new Scanner(wrong), 'InvalidArgument');
    }
    try { eciesOpen(mk, new Uint8Array(1)); } catch (e) { assert.match(e.message, /argument key must be a Key, got a MaskKey/); }
    mk.free();
  });

  test('errors from the core and from the JS layer are both instanceof EhrchainError', () => {
    for (const run of [() => sha256(5), () => new Key(), () => Key.fromBytes(new Uint8Array(32))]) {
      try {
        run();
        assert.fail('no error');
      } catch (e) {
        assert.ok(e instanceof EhrchainError, String(e));
        assert.ok(errorCodes().includes(e.code), e.code);
      }
    }
    assert.equal(new EhrchainError('Replay', 'x') instanceof Error, true);
    assert.equal(new Error('plain') instanceof EhrchainError, false);
  });
});

describe('claim 2: arguments are never coerced', () => {
  test('publicKey("no"), publicKey(1) and a non-boolean option are InvalidArgument', () => {
    const key = Key.generate();
    throwsCode(() => key.publicKey('no'), 'InvalidArgument');
    throwsCode(() => key.publicKey(1), 'InvalidArgument');
    throwsCode(() => key.publicKey({ uncompressed: 'yes' }), 'InvalidArgument');
    assert.equal(key.publicKey().length, 33);
    assert.equal(key.publicKey({ uncompressed: true }).length, 65);
    assert.equal(key.publicKey({}).length, 33);
    key.free();
  });

  test('a misspelt option is InvalidArgument naming it, not silently ignored', () => {
    const key = Key.generate();
    throwsCode(() => key.publicKey({ uncompresed: true }), 'InvalidArgument');
    throwsCode(() => new RecordEncryptor(generateRecordKey(), new Uint8Array(), { segmentsize: 4096 }), 'InvalidArgument');
    try { key.publicKey({ uncompresed: true }); } catch (e) { assert.match(e.message, /options\.uncompresed/); }
    key.free();
  });

  test('fixed-size bytes are a Uint8Array or hex text; numbers and arrays are refused', () => {
    for (const wrong of [5, [1, 2], { length: 2 }, true, null]) {
      throwsCode(() => Key.fromBytes(wrong), 'InvalidArgument');
      throwsCode(() => sha256(wrong), 'InvalidArgument');
    }
    throwsCode(() => Key.fromBytes('not hex'), 'InvalidHex');
  });

  test('content (data to hash, messages, plaintext) is never a string, so text is never read as hex', () => {
    throwsCode(() => sha256('abcd'), 'InvalidArgument');
    const key = Key.generate();
    throwsCode(() => key.signMessage('hello'), 'InvalidArgument');
    throwsCode(() => eciesSeal(key.publicKey(), 'hello'), 'InvalidArgument');
    const enc = new RecordEncryptor(generateRecordKey(), new Uint8Array());
    throwsCode(() => enc.push('00ff'), 'InvalidArgument');
    try { sha256('abcd'); } catch (e) { assert.match(e.message, /Uint8Array/); }
    key.free();
  });
});

describe('claim 3: scanning skips what is not a log', () => {
  test('null, a number, {}, non-hex data and another contract are skipped; the genuine grant is found', () => {
    const protocol = Key.generate();
    const scanner = new Scanner(protocol);
    const good = authorisedLog(protocol, 5);
    const junk = [null, 1, {}, 'log', { ...good, data: '0xzz' }, { ...good, topics: ['0x12'] }, { ...good, address: '0x' + '22'.repeat(20) }];
    const found = scanAuthorisations(scanner, REGISTRY, [...junk, good, ...junk]);
    assert.equal(found.length, 1);
    assert.equal(found[0].seq, 5);
    assert.ok(scanner.matches(found[0]));
    const grant = scanner.open(found[0]);
    assert.equal(grant.hospital, "St Mary's");
    grant.free();
    scanner.free();
    protocol.free();
  });

  test('the log list itself must be an array', () => {
    const scanner = new Scanner(Key.generate());
    throwsCode(() => scanAuthorisations(scanner, REGISTRY, {}), 'InvalidArgument');
    throwsCode(() => scanAuthorisations(scanner, REGISTRY, null), 'InvalidArgument');
  });

  test('decodeRegistryLogs, which does not skip, names the field it could not read', () => {
    const good = authorisedLog(Key.generate());
    try {
      decodeRegistryLogs(REGISTRY, [good, { ...good, topics: [1] }]);
      assert.fail('no error');
    } catch (e) {
      assert.equal(e.code, 'InvalidArgument');
      assert.match(e.message, /logs\[1\]\.topics\[0\]/);
    }
  });
});

describe('claim 4: one stream per encryptor', () => {
  test('transform() twice is StreamInUse', () => {
    const enc = new RecordEncryptor(generateRecordKey(), new Uint8Array());
    enc.transform();
    throwsCode(() => enc.transform(), 'StreamInUse');
  });

  test('push() after transform() is StreamInUse (it would take the header away from the stream)', () => {
    const enc = new RecordEncryptor(generateRecordKey(), new Uint8Array());
    enc.transform();
    throwsCode(() => enc.push(new Uint8Array(4)), 'StreamInUse');
    throwsCode(() => enc.finish(), 'StreamInUse');
  });

  test('transform() after push() is StreamInUse, on the decryptor too', () => {
    const enc = new RecordEncryptor(generateRecordKey(), new Uint8Array());
    enc.push(new Uint8Array(4));
    throwsCode(() => enc.transform(), 'StreamInUse');
    const dec = new RecordDecryptor(generateRecordKey(), new Uint8Array());
    dec.transform();
    throwsCode(() => dec.transform(), 'StreamInUse');
  });
});

describe('claim 5: one hex rule everywhere', () => {
  test('addresses are read with or without 0x, 0X, in either case', () => {
    // A fixed key: with a random one, the mis-cased form below has no
    // lower-case letter about 2 % of the time (no letter among its first 8
    // digits), and an all-upper-case address is valid.
    const key = Key.fromBytes(new Uint8Array(32).fill(1));
    const a = key.address;
    for (const form of [a, a.slice(2), a.toLowerCase(), '0X' + a.slice(2).toLowerCase(), a.slice(2).toUpperCase()]) {
      assert.equal(checksumAddress(form), a, form);
    }
    throwsCode(() => checksumAddress(a.slice(0, 2) + a.slice(2, 10).toLowerCase() + a.slice(10).toUpperCase()), 'InvalidAddress');
    assert.equal(registerDoctorTx(a.slice(2), { ...certificate().fields }).to, a);
    key.free();
  });

  test('fixed-size bytes are read from hex with or without 0x, 0X, in either case', () => {
    const key = Key.generate();
    const secret = hex(key.exportSecret());
    for (const form of [secret, '0x' + secret, '0X' + secret.toUpperCase(), secret.toUpperCase()]) {
      const again = Key.fromBytes(form);
      assert.equal(again.address, key.address, form);
      again.free();
    }
    assert.equal(addressOf(hex(key.publicKey())), key.address);
    assert.equal(addressOf('0x' + hex(key.publicKey())), key.address);
    key.free();
  });
});

describe('claim 6: the same rule gives the same answer in every helper, before a transaction', () => {
  test('a non-ASCII record type is refused by anchorCommitment', () => {
    const k = Key.generate();
    throwsCode(() => anchorCommitment({ anchorSalt: generateAnchorSalt(), doctor: k.address, patient: k.address, recordType: 'radiología' }), 'OutOfRange');
  });

  test('validFrom >= validUntil: InvalidValidity from issueCertificate, certificateTypedData and registerDoctorTx alike', () => {
    const { fields, authority } = certificate();
    for (const bad of [{ ...fields, validUntil: fields.validFrom }, { ...fields, validUntil: fields.validFrom - 1 }]) {
      throwsCode(() => issueCertificate(authority, bad), 'InvalidValidity');
      throwsCode(() => certificateTypedData(bad), 'InvalidValidity');
      throwsCode(() => registerDoctorTx(REGISTRY, bad), 'InvalidValidity');
    }
  });

  test('signAccessRequest refuses a TTL of 0 and a certificate not valid now', () => {
    const ok = certificate();
    const request = { hospital: "St Mary's", w: new Uint8Array(32), now: NOW, ttl: 60 };
    assert.equal(typeof signAccessRequest(ok.doctor, ok.json, request), 'string');
    throwsCode(() => signAccessRequest(ok.doctor, ok.json, { ...request, ttl: 0 }), 'OutOfRange');
    const expired = certificate({ from: NOW - 7200, until: NOW - 3600 });
    throwsCode(() => signAccessRequest(expired.doctor, expired.json, request), 'CertificateExpired');
    const future = certificate({ from: NOW + 3600, until: NOW + 7200 });
    throwsCode(() => signAccessRequest(future.doctor, future.json, request), 'CertificateNotYetValid');
    const upload = { hospital: "St Mary's", eh: new Uint8Array(32), size: 10, filing: new Uint8Array(32), now: NOW, ttl: 60 };
    throwsCode(() => signUploadRequest(expired.doctor, expired.json, upload), 'CertificateExpired');
    throwsCode(() => signUploadRequest(ok.doctor, ok.json, { ...upload, ttl: 0 }), 'OutOfRange');
  });
});

describe('times are Unix seconds; milliseconds are refused with a message that says so', () => {
  const ms = Date.now();
  test('every time argument refuses Date.now()', () => {
    const { fields, authority, doctor, json } = certificate();
    const cases = {
      recordAssociatedData: () => recordAssociatedData({ hospital: 'H', time: ms }),
      maskKeyIndex: () => MaskKey.generate().index({ hospital: 'H', time: ms }),
      issueCertificate: () => issueCertificate(authority, { ...fields, validUntil: ms }),
      registerDoctorTx: () => registerDoctorTx(REGISTRY, { ...fields, validUntil: ms }),
      anchorRecordTx: () => anchorRecordTx(REGISTRY, { eh: new Uint8Array(32), commitment: new Uint8Array(32), recordTime: ms, serial: 1 }),
      accessRequestTypedData: () => accessRequestTypedData({ hospital: 'H', w: new Uint8Array(32), now: ms, ttl: 60 }),
      signAccessRequest: () => signAccessRequest(doctor, json, { hospital: 'H', w: new Uint8Array(32), now: ms, ttl: 60 }),
      verifyCertificate: () => verifyCertificate(json, { authority: authority.address, at: ms }),
    };
    for (const [name, run] of Object.entries(cases)) {
      throwsCode(run, 'TimeInMilliseconds', name);
      try { run(); } catch (e) { assert.match(e.message, /milliseconds/, name); assert.match(e.message, /seconds/, name); }
    }
  });

  test('a time in seconds is accepted', () => {
    assert.equal(recordAssociatedData({ hospital: 'H', time: NOW }).length > 0, true);
  });
});

describe('argument shapes: optional arguments are optional', () => {
  test('a decryptor takes expectedHash without a segment-size placeholder', () => {
    const key = generateRecordKey();
    const enc = new RecordEncryptor(key, new Uint8Array());
    const ct = new Uint8Array([...enc.push(new Uint8Array(100).fill(7)), ...enc.finish()]);
    const dec = new RecordDecryptor(key, new Uint8Array(), { expectedHash: enc.hash });
    assert.deepEqual(new Uint8Array([...dec.push(ct), ...dec.finish()]), new Uint8Array(100).fill(7));
    const wrong = new RecordDecryptor(key, new Uint8Array(), { expectedHash: new Uint8Array(32) });
    wrong.push(ct);
    throwsCode(() => wrong.finish(), 'HashMismatch');
  });

  test('verifyCertificate takes no boolean unless the certificate is revoked', () => {
    const { json, authority, fields } = certificate();
    assert.equal(verifyCertificate(json, { authority: authority.address, at: NOW }).serial, fields.serial);
    throwsCode(() => verifyCertificate(json, { authority: authority.address, at: NOW, revoked: true }), 'CertificateRevoked');
  });

  test('registerDoctorTx takes a parsed certificate as it is (serial no longer out of place)', () => {
    const { json, fields } = certificate();
    const iface = new ethers.Interface(['function registerDoctor(uint64 serial, address doctor, bytes protocolKey, uint64 validFrom, uint64 validUntil)']);
    const tx = registerDoctorTx(REGISTRY, parseCertificate(json));
    const args = iface.decodeFunctionData('registerDoctor', tx.data);
    assert.equal(args.serial, BigInt(fields.serial));
    assert.equal(args.doctor, fields.doctor);
  });
});

describe('reverts are decoded into Reverted naming the contract error', () => {
  const iface = new ethers.Interface([
    'error NotCertifiedDoctor(uint64 serial)', 'error AlreadyAnchored(bytes32 eh)', 'error NotAuthority()',
  ]);

  test('revert data, hex or bytes', () => {
    const data = iface.encodeErrorResult('NotCertifiedDoctor', [7]);
    for (const input of [data, unhex(data)]) {
      const err = decodeRegistryRevert(input);
      assert.ok(err instanceof EhrchainError);
      assert.equal(err.code, 'Reverted');
      assert.match(err.message, /NotCertifiedDoctor/);
      assert.equal(err.revert.name, 'NotCertifiedDoctor');
      assert.equal(err.revert.signature, 'NotCertifiedDoctor(uint64)');
      assert.equal(Number(err.revert.args[0]), 7);
    }
  });

  test('an error object as ethers 6 throws it, nested data included', () => {
    const data = iface.encodeErrorResult('AlreadyAnchored', ['0x' + '11'.repeat(32)]);
    const ethersLike = Object.assign(new Error('execution reverted (unknown custom error)'), { code: 'CALL_EXCEPTION', data });
    assert.equal(decodeRegistryRevert(ethersLike).revert.name, 'AlreadyAnchored');
    const nested = { info: { error: { code: 3, message: 'execution reverted', data: iface.encodeErrorResult('NotAuthority', []) } } };
    assert.equal(decodeRegistryRevert(nested).revert.name, 'NotAuthority');
  });

  test('anything else is undefined, never a throw', () => {
    for (const other of [undefined, null, 5, '0x', '0x12345678', new Error('network down'), { data: { data: 1 } }]) {
      assert.equal(decodeRegistryRevert(other), undefined);
    }
  });
});

describe('messages that say what is wrong', () => {
  test('an unknown or missing field in certificate JSON is named', () => {
    const { json } = certificate();
    const extra = JSON.stringify({ ...JSON.parse(json), surprise: 1 });
    try { parseCertificate(extra); assert.fail('no error'); } catch (e) { assert.match(e.message, /surprise/); }
  });

  test('decrypting with another segment size says the segment size may be wrong', () => {
    const key = generateRecordKey();
    const enc = new RecordEncryptor(key, new Uint8Array(), { segmentSize: 4096 });
    const ct = new Uint8Array([...enc.push(new Uint8Array(20_000)), ...enc.finish()]);
    const dec = new RecordDecryptor(key, new Uint8Array());
    try {
      dec.push(ct);
      dec.finish();
      assert.fail('no error');
    } catch (e) {
      assert.ok(e instanceof EhrchainError);
      assert.match(e.message, /segment size/);
    }
  });
});

describe('lifetimes: what owns wasm memory is freed by free() and Symbol.dispose', () => {
  test('an opened grant owns its maskKey and frees it', () => {
    const protocol = Key.generate();
    const scanner = new Scanner(protocol);
    const [found] = scanAuthorisations(scanner, REGISTRY, [authorisedLog(protocol)]);
    const grant = scanner.open(found);
    assert.ok(grant.maskKey instanceof MaskKey);
    assert.equal(typeof grant[Symbol.dispose], 'function');
    grant[Symbol.dispose]();
    assert.equal(grant.maskKey.freed, true);
    throwsCode(() => grant.maskKey.index(grant), 'ObjectFreed');
    for (const o of [scanner, protocol]) { o.free(); assert.equal(o.freed, true); }
  });

  test('every class that owns wasm memory is a WasmObject with free and Symbol.dispose', () => {
    for (const cls of [Key, MaskKey, Scanner, RecordEncryptor, RecordDecryptor]) {
      assert.ok(cls.prototype instanceof WasmObject, cls.name);
      assert.equal(typeof cls.prototype[Symbol.dispose], 'function');
    }
  });
});

test('ECIES round trip with a hex key and a hex sealed blob (fixed-size values may be hex; results are Uint8Array)', () => {
  const key = Key.generate();
  const sealed = eciesSeal(hex(key.publicKey()), new TextEncoder().encode('hello'));
  assert.ok(sealed instanceof Uint8Array);
  assert.deepEqual(eciesOpen(key, hex(sealed)), new TextEncoder().encode('hello'));
  key.free();
});

test('transactions: revokeDoctorTx and authoriseTx take bigint serials and the authorise result as it is', () => {
  const iface = new ethers.Interface(['function revokeDoctor(uint64 serial)']);
  assert.equal(iface.decodeFunctionData('revokeDoctor', revokeDoctorTx(REGISTRY, 2n ** 60n).data)[0], 2n ** 60n);
  const log = authorisedLog(Key.generate());
  const [decoded] = decodeRegistryLogs(REGISTRY, [log]);
  assert.equal(decoded.event, 'Authorised');
  assert.ok(decoded.r instanceof Uint8Array, 'event bytes are Uint8Array, like every other result');
  assert.equal(typeof decoded.viewTag, 'number');
  assert.equal(authoriseTx(REGISTRY, decoded).to, REGISTRY);
});

describe('view tags (docs/PROTOCOL.md §5): a filter before ST, never the proof', () => {
  test('a grant carries its view tag from authorise through the scan to open and authoriseTx, as the same object', () => {
    const protocol = Key.generate();
    const scanner = new Scanner(protocol);
    const parts = grantParts(protocol);
    assert.ok(Number.isInteger(parts.viewTag) && parts.viewTag >= 0 && parts.viewTag <= 255);
    const [found] = scanAuthorisations(scanner, REGISTRY, [authorisedLog(protocol, 3, parts)]);
    assert.equal(found.viewTag, parts.viewTag);
    assert.deepEqual(found.r, parts.r);
    const iface = new ethers.Interface(['function authorise(bytes1 viewTag, bytes r, bytes st, bytes c1)']);
    const tx = authoriseTx(REGISTRY, found);
    assert.equal(tx.data.slice(0, 10), iface.getFunction('authorise').selector);
    assert.equal(tx.data.slice(0, 10), '0x11ec8200');
    const args = iface.decodeFunctionData('authorise', tx.data);
    assert.equal(args.viewTag, ethers.toBeHex(parts.viewTag, 1));
    assert.equal(args.st, ethers.hexlify(parts.st));
    const grant = scanner.open(found);
    assert.equal(grant.hospital, "St Mary's");
    grant.free();
    scanner.free();
    protocol.free();
  });

  test('a flipped view tag is no match: skipped by the scan, NotForThisKey from open', () => {
    const protocol = Key.generate();
    const scanner = new Scanner(protocol);
    const parts = grantParts(protocol);
    for (const mask of [0x01, 0x80, 0xff]) {
      const flipped = { ...parts, viewTag: parts.viewTag ^ mask };
      assert.equal(scanner.matches(flipped), false);
      throwsCode(() => scanner.open(flipped), 'NotForThisKey');
      assert.deepEqual(scanAuthorisations(scanner, REGISTRY, [authorisedLog(protocol, 1, flipped)]), []);
    }
    assert.equal(scanner.matches(parts), true);
    scanner.free();
    protocol.free();
  });

  test('the right view tag with a wrong ST is no match either', () => {
    const protocol = Key.generate();
    const scanner = new Scanner(protocol);
    const parts = grantParts(protocol);
    const wrongSt = { ...parts, st: grantParts(protocol).st };
    assert.equal(scanner.matches(wrongSt), false);
    throwsCode(() => scanner.open(wrongSt), 'NotForThisKey');
    assert.deepEqual(scanAuthorisations(scanner, REGISTRY, [authorisedLog(protocol, 1, wrongSt)]), []);
    scanner.free();
    protocol.free();
  });

  test('a viewTag that is not an integer 0–255 is refused with its code, never coerced', () => {
    const protocol = Key.generate();
    const scanner = new Scanner(protocol);
    const parts = grantParts(protocol);
    for (const [viewTag, code] of [[256, 'OutOfRange'], [-1, 'OutOfRange'], [1.5, 'OutOfRange'], ['0x01', 'InvalidArgument'], [1n, 'InvalidArgument'], [undefined, 'InvalidArgument'], [new Uint8Array([1]), 'InvalidArgument']]) {
      throwsCode(() => scanner.matches({ ...parts, viewTag }), code);
      throwsCode(() => scanner.open({ ...parts, viewTag }), code);
      throwsCode(() => authoriseTx(REGISTRY, { ...parts, viewTag }), code);
    }
    scanner.free();
    protocol.free();
  });
});

test('the package README gives every export a signature and an example', async () => {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const { ROOT } = await import('../support/helpers.mjs');
  const readme = fs.readFileSync(path.join(ROOT, 'docs', 'PACKAGE.md'), 'utf8');
  const reference = readme.slice(readme.indexOf('## Reference'));
  const rows = reference.split('\n').filter((l) => l.startsWith('| `'));
  for (const name of Object.keys(ehr).filter((n) => n !== '__esModule' && n !== 'WasmObject')) {
    const row = rows.find((r) => new RegExp('^\\| `(?:class |new )?' + name + '\\b').test(r) || r.includes(`\`${name}(`) || r.includes(`${name}.`));
    assert.ok(row, `docs/PACKAGE.md has no reference row for ${name}`);
    assert.equal(row.split(' | ').length >= 2, true, `${name}: a signature and an example`);
  }
});

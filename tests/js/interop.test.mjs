// Interoperability of the npm package (pkg/, Node.js build) with independent
// JavaScript implementations: ethers.js 6 (accounts, EIP-191, EIP-712) and
// eciesjs 0.5 (ECIES), in both directions; protocol version 4 grants (the
// EIP-712 Grant signed by an ethers wallet or by the library, passes opened
// with eciesjs or built outside the library, every C1 609 bytes), anchor
// commitments, the anchoring rule on registry answers encoded by ethers, and
// version-3 handoffs; streaming records through WHATWG
// TransformStreams; and how the wasm boundary copes with bad input from JS.
//
//   node --test tests/js/
//
// Bugs this suite found (unchecked argument types at the wasm boundary) were
// fixed; their tests now assert the fix.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { ethers } from 'ethers';
import * as ecies from 'eciesjs';
import { Config as EciesConfig, ECIES_CONFIG } from 'eciesjs/config';
import { hex, h0x, unhex, concat, sha256 as nodeSha256, throwsCode, rejectsCode, throwsEthersCode, loadPackage } from '../support/helpers.mjs';

const ehr = loadPackage();
const {
  Key, MaskKey, RecordEncryptor, RecordDecryptor,
  eciesSeal, eciesOpen, recoverMessage, hashMessage, hashTypedData, recoverTypedData,
  issueCertificate, certificateTypedData, assembleCertificate, verifyCertificate, parseCertificate,
  accessRequestTypedData, assembleAccessRequest, signAccessRequest, verifyAccessRequest,
  addressOf, compressPublicKey, checksumAddress, recordAssociatedData, generateRecordKey,
  sha256, keccak256,
} = ehr;

/** A grant record `{hospital, time, eh, anchorSalt, recordType}` (a Handoff has these fields). */
const grantRecord = (over = {}) => ({
  hospital: 'H', time: 1, eh: new Uint8Array(32).fill(7), anchorSalt: ehr.generateAnchorSalt(), recordType: 'lab', ...over,
});
/** A handoff's fields (docs/PROTOCOL.md §10). */
const handoffFields = (over = {}) => ({
  ...grantRecord(), txId: new Uint8Array(32), recordKey: new Uint8Array(16), filingSecret: new Uint8Array(32).fill(1), ...over,
});

// ------------------------------------------------------------------ helpers

/** secp256k1 group order and field prime. */
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;

const be32 = (n) => unhex(ethers.toBeHex(n, 32));
/** How noble-curves (under ethers) refuses a secret outside 1..n-1: no code, this message. */
const NOBLE_BAD_SECRET = /Expected valid bigint: 0 < bigint < curve\.n/;
/** How noble-curves (under ethers) refuses a point off the curve, x without a y, or a bad encoding: no code, these messages. */
const NOBLE_BAD_POINT = /bad point|Point is not on curve|Cannot find square root|Point of length \d+ was invalid/;
/** How eciesjs (node:crypto AES-GCM) refuses a ciphertext sealed to another key: no code, this message. */
const GCM_AUTH_FAILED = /unable to authenticate data/;

/** Deterministic PRNG (xorshift32) so that failures can be reproduced. */
function prng(seed) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
  return {
    int: (n) => next() % n,
    bytes: (n) => Uint8Array.from({ length: n }, () => next() & 0xff),
    pick: (arr) => arr[next() % arr.length],
    bool: () => (next() & 1) === 1,
  };
}

/** A complete round trip through the wasm instance: records, ECIES, signatures. */
function assertAlive() {
  const key = generateRecordKey();
  const pt = crypto.randomBytes(3000);
  const enc = new RecordEncryptor(key, Uint8Array.of(1, 2), { segmentSize: 512 });
  const ct = Buffer.concat([enc.push(pt), enc.finish()]);
  assert.deepEqual(enc.hash, nodeSha256(ct));
  const dec = new RecordDecryptor(key, Uint8Array.of(1, 2), { segmentSize: 512, expectedHash: enc.hash });
  assert.deepEqual(Buffer.concat([dec.push(ct), dec.finish()]), pt);
  const k = Key.generate();
  assert.deepEqual(eciesOpen(k, eciesSeal(k.publicKey(), pt)), new Uint8Array(pt));
  assert.equal(recoverMessage(pt, k.signMessage(pt)), k.address);
  k.free();
  enc.free();
  dec.free();
}

async function collect(readable) {
  const chunks = [];
  for await (const c of readable) chunks.push(c);
  return new Uint8Array(Buffer.concat(chunks));
}

/** Splits a typed-data payload into ethers' arguments (ethers rejects EIP712Domain in types). */
function forEthers(json) {
  const td = typeof json === 'string' ? JSON.parse(json) : json;
  const { EIP712Domain, ...types } = td.types;
  return { domain: td.domain, types, message: td.message, primaryType: td.primaryType };
}

// ---------------------------------------------------------------- accounts

describe('accounts against ethers', () => {
  // 300 random secrets, each with the package's key and ethers' wallet.
  const pairs = Array.from({ length: 300 }, () => {
    const secret = new Uint8Array(crypto.randomBytes(32));
    return { secret, key: Key.fromBytes(secret), wallet: new ethers.Wallet(h0x(secret)) };
  });
  after(() => { for (const { key } of pairs) key.free(); });

  test('300 random secrets: the address equals ethers.computeAddress and the wallet\'s', () => {
    for (const { secret, key, wallet } of pairs) {
      assert.equal(key.address, ethers.computeAddress(h0x(secret)));
      assert.equal(key.address, wallet.address);
    }
  });

  test('300 random secrets: publicKey() and publicKey({ uncompressed: false }) are the compressed key, publicKey({ uncompressed: true }) the uncompressed', () => {
    for (const { key, wallet } of pairs) {
      assert.equal(h0x(key.publicKey()), wallet.signingKey.compressedPublicKey);
      assert.equal(h0x(key.publicKey({ uncompressed: false })), wallet.signingKey.compressedPublicKey);
      assert.equal(h0x(key.publicKey({ uncompressed: true })), wallet.signingKey.publicKey);
    }
  });

  test('300 random secrets: addressOf either public key form is the address', () => {
    for (const { key, wallet } of pairs) {
      assert.equal(addressOf(key.publicKey()), wallet.address);
      assert.equal(addressOf(key.publicKey({ uncompressed: true })), wallet.address);
    }
  });

  test('300 random secrets: compressPublicKey of the uncompressed key is the compressed key', () => {
    for (const { key } of pairs) assert.deepEqual(compressPublicKey(key.publicKey({ uncompressed: true })), key.publicKey());
  });

  test('300 random secrets: checksumAddress of the lower-case address is ethers\' EIP-55 form', () => {
    for (const { wallet } of pairs) assert.equal(checksumAddress(wallet.address.toLowerCase()), wallet.address);
  });

  test('300 random secrets: exportSecret returns the secret', () => {
    for (const { secret, key } of pairs) assert.deepEqual(key.exportSecret(), secret);
  });

  test('edge secrets 1, 2 and n-1 are keys with ethers\' address and public key', () => {
    for (const s of [1n, 2n, N - 1n]) {
      const key = Key.fromBytes(be32(s));
      assert.equal(key.address, ethers.computeAddress(ethers.toBeHex(s, 32)));
      assert.equal(h0x(key.publicKey({ uncompressed: true })), ethers.SigningKey.computePublicKey(ethers.toBeHex(s, 32), false));
      key.free();
    }
  });

  for (const s of [0n, N, N + 1n, (1n << 256n) - 1n]) {
    test(`edge secret ${s === 0n ? '0' : s === N ? 'n' : s === N + 1n ? 'n+1' : '2^256-1'} is refused: InvalidSecretKey (ethers refuses it too)`, () => {
      throwsCode(() => Key.fromBytes(be32(s)), 'InvalidSecretKey', `secret ${s}`);
      assert.throws(() => new ethers.SigningKey(ethers.toBeHex(s, 32)).publicKey, NOBLE_BAD_SECRET);
    });
  }

  test('only a Uint8Array is bytes: a secret as number[] is refused (InvalidArgument), not coerced', () => {
    const secret = crypto.randomBytes(32);
    throwsCode(() => Key.fromBytes(Array.from(secret)), 'InvalidArgument');
    assert.equal(Key.fromBytes(new Uint8Array(secret)).address, ethers.computeAddress(h0x(secret)));
  });

  // 200 random addresses, with one letter's case flipped in each (where it has a letter).
  const r = prng(55);
  const addresses = Array.from({ length: 200 }, () => h0x(r.bytes(20)));

  test('EIP-55 checksums of lower- and upper-case addresses agree with ethers.getAddress', () => {
    for (const lower of addresses) {
      assert.equal(checksumAddress(lower), ethers.getAddress(lower));
      assert.equal(checksumAddress(lower.toUpperCase().replace('0X', '0x')), ethers.getAddress(lower));
    }
  });

  test('an EIP-55 address with one letter\'s case flipped is refused: InvalidAddress (ethers: INVALID_ARGUMENT)', () => {
    let flipped = 0;
    for (const lower of addresses) {
      const good = ethers.getAddress(lower);
      const idx = [...good].findIndex((c, j) => j > 1 && /[a-fA-F]/.test(c));
      if (idx < 0) continue;
      const c = good[idx];
      const bad = good.slice(0, idx) + (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) + good.slice(idx + 1);
      throwsCode(() => checksumAddress(bad), 'InvalidAddress', bad);
      throwsEthersCode(() => ethers.getAddress(bad), 'INVALID_ARGUMENT', bad);
      flipped++;
    }
    assert.ok(flipped > 190, `${flipped} addresses with a letter`);
  });
});

// ---------------------------------------------------------- personal_sign

describe('EIP-191 personal_sign against ethers', () => {
  const messages = [
    new Uint8Array(0),
    new TextEncoder().encode('hello'),
    new TextEncoder().encode('Grüße, 医者 🩺\n'),
    Uint8Array.of(0, 0x19, 0xff, 0x80),
    new Uint8Array(crypto.randomBytes(1000)),
    new Uint8Array(crypto.randomBytes(100_000)),
  ];
  /** 24 random keys × the messages: {i, msg, wallet, ours (package), theirs (ethers)}. */
  const signed = [];
  before(async () => {
    for (let i = 0; i < 24; i++) {
      const secret = crypto.randomBytes(32);
      const key = Key.fromBytes(secret);
      const wallet = new ethers.Wallet(h0x(secret));
      for (const msg of messages) signed.push({ i, msg, wallet, ours: key.signMessage(msg), theirs: await wallet.signMessage(msg) });
      key.free();
    }
  });

  test('hashMessage equals ethers.hashMessage', () => {
    for (const msg of messages) assert.equal(h0x(hashMessage(msg)), ethers.hashMessage(msg));
  });

  test('signatures are 65 bytes and byte-identical to ethers\' (RFC 6979)', () => {
    assert.equal(signed.length, 24 * messages.length);
    for (const { i, msg, ours, theirs } of signed) {
      assert.equal(ours.length, 65);
      assert.equal(h0x(ours), theirs, `key ${i} message of ${msg.length} bytes`);
    }
  });

  test('signatures carry v = 27 or 28 and a low s', () => {
    for (const { ours } of signed) {
      assert.ok(ours[64] === 27 || ours[64] === 28);
      assert.ok(BigInt(h0x(ours.slice(32, 64))) <= N / 2n);
    }
  });

  test('ethers.verifyMessage recovers the signer from the package\'s signature', () => {
    for (const { msg, wallet, ours } of signed) assert.equal(ethers.verifyMessage(msg, h0x(ours)), wallet.address);
  });

  test('recoverMessage recovers the signer from ethers\' signature', () => {
    for (const { msg, wallet, theirs } of signed) assert.equal(recoverMessage(msg, unhex(theirs)), wallet.address);
  });

  describe('signature encodings', () => {
    const msg = new TextEncoder().encode('consent');
    let wallet, sig;
    before(async () => {
      wallet = ethers.Wallet.createRandom();
      sig = unhex(await wallet.signMessage(msg));
    });

    test('v = 0/1 is accepted as 27/28', () => {
      const v01 = sig.slice();
      v01[64] -= 27;
      assert.equal(recoverMessage(msg, v01), wallet.address);
    });

    test('the malleable high-s twin (n - s, flipped parity) is refused: InvalidSignature', () => {
      const s = BigInt(h0x(sig.slice(32, 64)));
      const twin = new Uint8Array([...sig.slice(0, 32), ...be32(N - s), sig[64] === 27 ? 28 : 27]);
      throwsCode(() => recoverMessage(msg, twin), 'InvalidSignature', 'high s');
    });

    for (const v of [2, 26, 29, 0xff]) {
      test(`v = ${v} is refused: InvalidSignature`, () => {
        const bad = sig.slice();
        bad[64] = v;
        throwsCode(() => recoverMessage(msg, bad), 'InvalidSignature', `v=${v}`);
      });
    }

    test('r = 0 is refused: InvalidSignature', () => {
      const zeroR = sig.slice();
      zeroR.fill(0, 0, 32);
      throwsCode(() => recoverMessage(msg, zeroR), 'InvalidSignature', 'r = 0');
    });

    test('r = n is refused: InvalidSignature', () => {
      const bigR = sig.slice();
      bigR.set(be32(N), 0);
      throwsCode(() => recoverMessage(msg, bigR), 'InvalidSignature', 'r = n');
    });

    for (const len of [0, 64, 66]) {
      test(`a signature of ${len} bytes is refused: InvalidLength`, () => {
        throwsCode(() => recoverMessage(msg, new Uint8Array(len)), 'InvalidLength', `length ${len}`);
      });
    }

    test('a different message recovers someone else', () => {
      assert.notEqual(recoverMessage(Uint8Array.of(1), sig), wallet.address);
    });

    test('the wasm instance works after the refusals', () => {
      assertAlive();
    });
  });
});

// ------------------------------------------------------------------ EIP-712

const MAIL = {
  types: {
    EIP712Domain: [
      { name: 'name', type: 'string' }, { name: 'version', type: 'string' },
      { name: 'chainId', type: 'uint256' }, { name: 'verifyingContract', type: 'address' },
    ],
    Person: [{ name: 'name', type: 'string' }, { name: 'wallet', type: 'address' }],
    Mail: [{ name: 'from', type: 'Person' }, { name: 'to', type: 'Person' }, { name: 'contents', type: 'string' }],
  },
  primaryType: 'Mail',
  domain: { name: 'Ether Mail', version: '1', chainId: 1, verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC' },
  message: {
    from: { name: 'Cow', wallet: '0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826' },
    to: { name: 'Bob', wallet: '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB' },
    contents: 'Hello, Bob!',
  },
};

/** Random EIP-712 types and values (nested structs, arrays, every atomic kind). */
function randomTypedData(r, idx) {
  const types = {};
  let structs = 0;
  const atomic = () => {
    switch (r.int(7)) {
      case 0: return 'address';
      case 1: return 'bool';
      case 2: return 'string';
      case 3: return 'bytes';
      case 4: return `bytes${1 + r.int(32)}`;
      case 5: return r.bool() && r.int(4) === 0 ? 'uint256' : `uint${8 * (1 + r.int(32))}`;
      default: return `int${8 * (1 + r.int(32))}`;
    }
  };
  const makeStruct = (depth) => {
    const name = `S${idx}x${structs++}`;
    types[name] = [];
    const count = 1 + r.int(4);
    for (let i = 0; i < count; i++) {
      let type = depth < 2 && r.int(4) === 0 ? makeStruct(depth + 1) : atomic();
      if (r.int(4) === 0) type += r.bool() ? '[]' : `[${1 + r.int(3)}]`;
      if (r.int(8) === 0) type += '[]';
      types[name].push({ name: `f${i}_${type.replace(/\W/g, '_')}`, type });
    }
    return name;
  };
  const primary = makeStruct(0);
  const value = (type) => {
    const arr = type.match(/^(.*)\[(\d*)\]$/);
    if (arr) {
      const len = arr[2] === '' ? r.int(4) : Number(arr[2]);
      return Array.from({ length: len }, () => value(arr[1]));
    }
    if (types[type]) return Object.fromEntries(types[type].map((m) => [m.name, value(m.type)]));
    if (type === 'address') return r.bool() ? ethers.getAddress(h0x(r.bytes(20))) : h0x(r.bytes(20));
    if (type === 'bool') return r.bool();
    if (type === 'string') return r.pick(['', 'a', 'Ünïcødé ✓', 'x'.repeat(70), '"quoted" \\ \n']);
    if (type === 'bytes') return h0x(r.bytes(r.pick([0, 1, 31, 32, 33, 100])));
    let m = type.match(/^bytes(\d+)$/);
    if (m) return h0x(r.bytes(Number(m[1])));
    m = type.match(/^(u?)int(\d+)$/);
    const bits = BigInt(m[2]);
    const signed = m[1] === '';
    const range = signed ? 1n << (bits - 1n) : 1n << bits;
    let v;
    switch (r.int(5)) {
      case 0: v = 0n; break;
      case 1: v = range - 1n; break;
      case 2: v = signed ? -range : 1n; break;
      default: v = BigInt(h0x(r.bytes(Number(bits) / 8))) % range; if (signed && r.bool()) v = -v;
    }
    // Several spellings, all valid for both implementations.
    if (v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER) && r.bool()) return Number(v);
    if (v >= 0n && r.bool()) return '0x' + v.toString(16);
    return v.toString();
  };
  const message = value(primary);
  const domainFields = [
    ['name', 'string', () => 'Dom ' + r.int(100)],
    ['version', 'string', () => String(r.int(9))],
    ['chainId', 'uint256', () => r.pick([1, 31337, '11155111'])],
    ['verifyingContract', 'address', () => ethers.getAddress(h0x(r.bytes(20)))],
    ['salt', 'bytes32', () => h0x(r.bytes(32))],
  ].filter(() => r.bool());
  const domain = Object.fromEntries(domainFields.map(([n, , f]) => [n, f()]));
  return {
    types: { EIP712Domain: domainFields.map(([name, type]) => ({ name, type })), ...types },
    primaryType: primary,
    domain,
    message,
  };
}

describe('EIP-712 against ethers', () => {
  describe('the EIP-712 Mail example', () => {
    const json = JSON.stringify(MAIL);
    const { domain, types, message } = forEthers(MAIL);
    const secret = ethers.keccak256(ethers.toUtf8Bytes('cow'));
    const key = Key.fromBytes(unhex(secret));
    const wallet = new ethers.Wallet(secret);

    test('hash equals ethers\' and the EIP\'s published value', () => {
      assert.equal(h0x(hashTypedData(json)), ethers.TypedDataEncoder.hash(domain, types, message));
      assert.equal(h0x(hashTypedData(json)), '0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2');
    });

    test('without EIP712Domain in types, the domain type is inferred as ethers does', () => {
      const { EIP712Domain, ...noDomain } = MAIL.types;
      assert.equal(h0x(hashTypedData(JSON.stringify({ ...MAIL, types: noDomain }))), h0x(hashTypedData(json)));
    });

    test('the signature of "cow" is byte-identical to ethers\' and verifies in ethers', async () => {
      assert.equal(key.address, '0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826');
      const ours = key.signTypedData(json);
      assert.equal(h0x(ours), await wallet.signTypedData(domain, types, message));
      assert.equal(ethers.verifyTypedData(domain, types, message, h0x(ours)), wallet.address);
    });

    test('recoverTypedData recovers the signer from ethers\' signature', async () => {
      const theirs = await wallet.signTypedData(domain, types, message);
      assert.equal(recoverTypedData(json, unhex(theirs)), wallet.address);
    });
  });

  describe('150 random typed-data documents', () => {
    const r = prng(712);
    const docs = Array.from({ length: 150 }, (_, i) => {
      const td = randomTypedData(r, i);
      return { i, td, json: JSON.stringify(td), ...forEthers(td) };
    });
    const wallet = ethers.Wallet.createRandom();
    const key = Key.fromBytes(unhex(wallet.privateKey));

    test('hashTypedData equals ethers.TypedDataEncoder.hash', () => {
      for (const { i, json, domain, types, message } of docs) {
        assert.equal(h0x(hashTypedData(json)), ethers.TypedDataEncoder.hash(domain, types, message), `document ${i}: ${json}`);
      }
    });

    test('ethers\' own eth_signTypedData_v4 payload (normalised values) hashes the same', () => {
      for (const { i, domain, types, message } of docs) {
        const payload = ethers.TypedDataEncoder.getPayload(domain, types, message);
        assert.equal(h0x(hashTypedData(JSON.stringify(payload))), ethers.TypedDataEncoder.hash(domain, types, message), `payload ${i}`);
      }
    });

    test('every fifth: signatures byte-identical to ethers\', recovered by recoverTypedData', async () => {
      for (const { i, json, domain, types, message } of docs.filter((d) => d.i % 5 === 0)) {
        const theirs = await wallet.signTypedData(domain, types, message);
        assert.equal(h0x(key.signTypedData(json)), theirs, `signature ${i}`);
        assert.equal(recoverTypedData(json, unhex(theirs)), wallet.address);
      }
    });
  });

  test('loose spellings: whenever both accept a value, both hash it the same', (t) => {
    const base = (type, value) => ({
      types: { EIP712Domain: [{ name: 'name', type: 'string' }], T: [{ name: 'v', type }] },
      primaryType: 'T', domain: { name: 'x' }, message: { v: value },
    });
    const spellings = [
      ['bool', 'true'], ['bool', 'false'], ['bool', 0], ['bool', 1], ['uint64', ' 12'], ['uint64', '-0'], ['uint64', -0],
      ['uint64', 12.0], ['uint64', '0x0c'], ['uint64', '0X0c'], ['int8', '-0x10'], ['int8', '-16'], ['uint8', '00012'],
      ['bytes', 'abcd'], ['bytes', '0xABCD'], ['bytes4', 'aabbccdd'], ['bytes4', '0xAABBCCDD'],
      ['address', 'cd2a3d9f938e13cd947ec05abc7fe734df8dd826'], ['address', '0xCD2A3D9F938E13CD947EC05ABC7FE734DF8DD826'],
      ['string', ''], ['uint256', '0x' + '0'.repeat(70) + '1'],
    ];
    const divergent = [];
    for (const [type, value] of spellings) {
      const td = base(type, value);
      let ours, theirs;
      try { ours = h0x(hashTypedData(JSON.stringify(td))); } catch (e) { ours = `throws ${e.code}`; }
      try { theirs = ethers.TypedDataEncoder.hash(td.domain, { T: td.types.T }, td.message); } catch (e) { theirs = 'throws'; }
      if (ours.startsWith('0x') && theirs.startsWith('0x')) {
        assert.equal(ours, theirs, `${type} ${JSON.stringify(value)}`);
      } else if (ours.startsWith('0x') !== theirs.startsWith('0x')) {
        divergent.push(`${type} ${JSON.stringify(value)}: ehrchain ${ours.startsWith('0x') ? 'accepts' : ours}, ethers ${theirs.startsWith('0x') ? 'accepts' : 'throws'}`);
      }
    }
    // Not errors: documented leniency differences, reported for the record.
    for (const d of divergent) t.diagnostic(`leniency differs: ${d}`);
  });

  describe('out-of-range and malformed values are refused (ethers refuses them too)', () => {
    const base = (type, value) => ({
      types: { EIP712Domain: [{ name: 'name', type: 'string' }], T: [{ name: 'v', type }] },
      primaryType: 'T', domain: { name: 'x' }, message: { v: value },
    });
    const cases = [
      ['uint8', 256], ['uint8', -1], ['int8', 128], ['int8', '-129'], ['uint256', (1n << 256n).toString()],
      ['int256', (1n << 255n).toString()], ['bytes4', '0x0102'], ['bytes4', '0x0102030405'],
      ['address', '0x1234', 'InvalidAddress'], ['address', '0xcd2a3d9f938e13cd947ec05abc7fe734df8dD826', 'InvalidAddress'],
      ['uint64', 1.5], ['uint64', 'abc'], ['uint64', '0x'], ['uint64', '1e3'], ['uint64', true],
      ['string', 5], ['bytes', '0x123', 'InvalidHex'], ['bytes4', '0xzzzzzzzz', 'InvalidHex'],
    ];
    for (const [type, value, code = 'InvalidTypedData'] of cases) {
      test(`${type} ${JSON.stringify(value)}: ${code} (ethers: INVALID_ARGUMENT)`, () => {
        const td = base(type, value);
        const { domain, types, message } = forEthers(td);
        throwsEthersCode(() => ethers.TypedDataEncoder.hash(domain, types, message), 'INVALID_ARGUMENT', `ethers with ${type} ${value}`);
        throwsCode(() => hashTypedData(JSON.stringify(td)), code, `${type} ${value}`);
      });
    }

    test('the extreme values themselves are accepted and hash as in ethers', () => {
      for (const [type, value] of [['int256', (-(1n << 255n)).toString()], ['uint256', ((1n << 256n) - 1n).toString()], ['int8', -128]]) {
        const td = base(type, value);
        const { domain, types, message } = forEthers(td);
        assert.equal(h0x(hashTypedData(JSON.stringify(td))), ethers.TypedDataEncoder.hash(domain, types, message));
      }
    });

    test('a document that is not JSON: MalformedJson', () => {
      throwsCode(() => hashTypedData('{'), 'MalformedJson');
    });

    test('a bool given as a string: InvalidTypedData', () => {
      throwsCode(() => hashTypedData(JSON.stringify(base('bool', 'true'))), 'InvalidTypedData', 'bool given as a string');
    });

    test('an unknown primaryType: InvalidTypedData', () => {
      throwsCode(() => hashTypedData(JSON.stringify({ ...MAIL, primaryType: 'Nope' })), 'InvalidTypedData');
    });

    test('a message missing a field: InvalidTypedData', () => {
      const missing = structuredClone(MAIL);
      delete missing.message.contents;
      throwsCode(() => hashTypedData(JSON.stringify(missing)), 'InvalidTypedData');
    });

    test('the wasm instance works after the refusals', () => {
      assertAlive();
    });
  });
});

// ----------------------------------------------- certificates and requests

describe('certificates and access requests against ethers', () => {
  const authority = ethers.Wallet.createRandom();
  const doctor = ethers.Wallet.createRandom();
  const protocolKey = Key.generate();
  const authorityKey = Key.fromBytes(unhex(authority.privateKey));
  const doctorKey = Key.fromBytes(unhex(doctor.privateKey));
  const FROM = 1_700_000_000;
  const UNTIL = FROM + 365 * 86400;
  const HOSPITAL = 'St. Mary’s Hospital';

  describe('issueCertificate', () => {
    const certJson = issueCertificate(authorityKey, { doctor: doctor.address, protocolKey: protocolKey.publicKey(), hospital: HOSPITAL, validFrom: FROM, validUntil: UNTIL, serial: 42 });
    const cert = JSON.parse(certJson);
    const { domain, types, message, primaryType } = forEthers(cert.typedData);

    test('the certificate is a DoctorCertificate whose signature ethers.verifyTypedData attributes to the authority', () => {
      assert.equal(primaryType, 'DoctorCertificate');
      assert.equal(ethers.verifyTypedData(domain, types, message, cert.signature), authority.address);
    });

    test('its typed data hashes as in ethers', () => {
      assert.equal(h0x(hashTypedData(JSON.stringify(cert.typedData))), ethers.TypedDataEncoder.hash(domain, types, message));
    });

    test('its message names the doctor and the compressed protocol key', () => {
      assert.equal(message.doctor, doctor.address);
      assert.equal(message.protocolKey, h0x(protocolKey.publicKey()));
    });

    test('verifyCertificate returns every field', () => {
      const fields = verifyCertificate(certJson, { authority: authority.address, at: FROM + 1, revoked: false });
      assert.equal(fields.doctor, doctor.address);
      assert.equal(fields.hospital, HOSPITAL);
      assert.deepEqual([fields.validFrom, fields.validUntil, fields.serial], [FROM, UNTIL, 42]);
      assert.deepEqual(fields.protocolKey, protocolKey.publicKey());
    });
  });

  describe('a certificate signed by an ethers wallet', () => {
    // Uncompressed protocol key in: the certificate carries the compressed form.
    const td = certificateTypedData({ doctor: doctor.address, protocolKey: protocolKey.publicKey({ uncompressed: true }), hospital: HOSPITAL, validFrom: FROM, validUntil: UNTIL, serial: 7 });
    const { domain, types, message } = forEthers(td);
    let certJson;
    before(async () => {
      certJson = assembleCertificate(td, unhex(await authority.signTypedData(domain, types, message)));
    });

    test('is identical to what the library issues itself (RFC 6979 on both sides)', () => {
      assert.equal(certJson, issueCertificate(authorityKey, { doctor: doctor.address, protocolKey: protocolKey.publicKey(), hospital: HOSPITAL, validFrom: FROM, validUntil: UNTIL, serial: 7 }));
    });

    test('is accepted by verifyCertificate, whose fields parseCertificate returns too', () => {
      const fields = verifyCertificate(certJson, { authority: authority.address, at: FROM, revoked: false });
      assert.equal(fields.serial, 7);
      assert.deepEqual(parseCertificate(certJson), fields);
    });

    test('is accepted with a lower-case authority address (the same account)', () => {
      assert.equal(verifyCertificate(certJson, { authority: authority.address.toLowerCase(), at: FROM, revoked: false }).serial, 7);
    });

    test('checked against another authority: CertificateWrongAuthority', () => {
      throwsCode(() => verifyCertificate(certJson, { authority: doctor.address, at: FROM, revoked: false }), 'CertificateWrongAuthority');
    });

    test('before validFrom: CertificateNotYetValid', () => {
      throwsCode(() => verifyCertificate(certJson, { authority: authority.address, at: FROM - 1, revoked: false }), 'CertificateNotYetValid');
    });

    test('at validUntil: CertificateExpired', () => {
      throwsCode(() => verifyCertificate(certJson, { authority: authority.address, at: UNTIL, revoked: false }), 'CertificateExpired');
    });

    test('revoked: CertificateRevoked', () => {
      throwsCode(() => verifyCertificate(certJson, { authority: authority.address, at: FROM + 10, revoked: true }), 'CertificateRevoked');
    });

    test('signed by another ethers wallet: CertificateWrongAuthority', async () => {
      const rogue = ethers.Wallet.createRandom();
      const rogueCert = assembleCertificate(td, unhex(await rogue.signTypedData(domain, types, message)));
      throwsCode(() => verifyCertificate(rogueCert, { authority: authority.address, at: FROM, revoked: false }), 'CertificateWrongAuthority');
    });

    // A field changed after signing (still canonical, so only the signature catches it).
    for (const [field, value] of [['serial', 8], ['validUntil', UNTIL + 1], ['hospital', 'Other'], ['doctor', ethers.Wallet.createRandom().address]]) {
      test(`${field} changed after signing: CertificateWrongAuthority`, () => {
        const c = JSON.parse(certJson);
        c.typedData.message[field] = value;
        throwsCode(() => verifyCertificate(JSON.stringify(c), { authority: authority.address, at: FROM, revoked: false }), 'CertificateWrongAuthority', field);
      });
    }

    test('a non-canonical domain (with chainId): CertificateMalformed', () => {
      const c = JSON.parse(certJson);
      c.typedData.domain.chainId = 1;
      c.typedData.types.EIP712Domain.push({ name: 'chainId', type: 'uint256' });
      throwsCode(() => verifyCertificate(JSON.stringify(c), { authority: authority.address, at: FROM, revoked: false }), 'CertificateMalformed');
    });

    test('a serial spelt as a string: CertificateMalformed', () => {
      const s = JSON.parse(certJson);
      s.typedData.message.serial = '7';
      throwsCode(() => verifyCertificate(JSON.stringify(s), { authority: authority.address, at: FROM, revoked: false }), 'CertificateMalformed');
    });

    test('assembleCertificate with a 64-byte signature: InvalidLength', () => {
      throwsCode(() => assembleCertificate(td, new Uint8Array(64)), 'InvalidLength');
    });

    test('certificateTypedData with validUntil before validFrom: InvalidValidity', () => {
      throwsCode(() => certificateTypedData({ doctor: doctor.address, protocolKey: protocolKey.publicKey(), hospital: HOSPITAL, validFrom: UNTIL, validUntil: FROM, serial: 1 }), 'InvalidValidity');
    });

    test('the wasm instance works after the refusals', () => {
      assertAlive();
    });
  });

  describe('an access request signed by an ethers wallet', () => {
    const certJson = issueCertificate(authorityKey, { doctor: doctor.address, protocolKey: protocolKey.publicKey(), hospital: HOSPITAL, validFrom: FROM, validUntil: UNTIL, serial: 9 });
    const w = new Uint8Array(crypto.randomBytes(32));
    const NOW = FROM + 1000;
    const TTL = 300;
    const td = accessRequestTypedData({ hospital: 'Hospital H1', w, now: NOW, ttl: TTL });
    const { domain, types, message, primaryType } = forEthers(td);
    const other = ethers.Wallet.createRandom();
    let sig, request;
    before(async () => {
      sig = await doctor.signTypedData(domain, types, message);
      request = assembleAccessRequest(td, unhex(sig), certJson);
    });
    // The registry's certificateStatus answer, ABI-encoded by ethers.
    const statusAnswer = (registeredTo, revoked = false) => ethers.AbiCoder.defaultAbiCoder().encode(
      ['address', 'uint64', 'uint64', 'bool', 'uint64'], [registeredTo, FROM, UNTIL, revoked, revoked ? NOW : 0]);
    // By default the registry confirms the request's own certificate.
    const certifiedDoctor = (req) => JSON.parse(req).certificate.typedData.message.doctor;
    const check = (req, code, at = NOW, hospital = 'Hospital H1', maxTtl = 600, status = statusAnswer(certifiedDoctor(req))) =>
      throwsCode(() => verifyAccessRequest(req, { authority: authority.address, hospital, now: at, maxTtl, certificateStatus: status }), code);

    test('accessRequestTypedData: an AccessRequest for w with expiry now + ttl, hashed as in ethers', () => {
      assert.equal(primaryType, 'AccessRequest');
      assert.equal(message.w, h0x(w));
      assert.equal(message.expiry, NOW + TTL);
      assert.equal(h0x(hashTypedData(td)), ethers.TypedDataEncoder.hash(domain, types, message));
    });

    test('passes verifyAccessRequest, which returns doctor, serial, w, nonce and expiry', () => {
      const v = verifyAccessRequest(request, { authority: authority.address, hospital: 'Hospital H1', now: NOW, maxTtl: 600, certificateStatus: statusAnswer(doctor.address) });
      assert.equal(v.doctor, doctor.address);
      assert.equal(v.serial, 9);
      assert.deepEqual(v.w, w);
      assert.equal(h0x(v.nonce), message.nonce);
      assert.equal(v.expiry, NOW + TTL);
    });

    test('two requests never share a nonce', () => {
      assert.notEqual(JSON.parse(accessRequestTypedData({ hospital: 'Hospital H1', w, now: NOW, ttl: TTL })).message.nonce, message.nonce);
    });

    test('the library\'s own signAccessRequest verifies in ethers', () => {
      const own = JSON.parse(signAccessRequest(doctorKey, certJson, { hospital: 'Hospital H1', w, now: NOW, ttl: TTL }));
      const o = forEthers(own.typedData);
      assert.equal(ethers.verifyTypedData(o.domain, o.types, o.message, own.signature), doctor.address);
    });

    test('signed by someone other than the certified doctor: RequestWrongSigner', async () => {
      check(assembleAccessRequest(td, unhex(await other.signTypedData(domain, types, message)), certJson), 'RequestWrongSigner');
    });

    test('signed by the authority (a valid signature, but not the doctor\'s): RequestWrongSigner', async () => {
      check(assembleAccessRequest(td, unhex(await authority.signTypedData(domain, types, message)), certJson), 'RequestWrongSigner');
    });

    for (const [field, value] of [['w', h0x(crypto.randomBytes(32))], ['nonce', h0x(crypto.randomBytes(32))], ['expiry', NOW + TTL + 1], ['hospital', 'Hospital H2']]) {
      test(`${field} changed after signing: RequestWrongSigner`, () => {
        const req = JSON.parse(request);
        req.typedData.message[field] = value;
        check(JSON.stringify(req), 'RequestWrongSigner', NOW, field === 'hospital' ? 'Hospital H2' : 'Hospital H1');
      });
    }

    test('a certificate signed by a wallet that is not the authority: CertificateWrongAuthority', async () => {
      const certTd = certificateTypedData({ doctor: doctor.address, protocolKey: protocolKey.publicKey(), hospital: HOSPITAL, validFrom: FROM, validUntil: UNTIL, serial: 9 });
      const c = forEthers(certTd);
      const foreignCert = assembleCertificate(certTd, unhex(await other.signTypedData(c.domain, c.types, c.message)));
      check(assembleAccessRequest(td, unhex(sig), foreignCert), 'CertificateWrongAuthority');
    });

    test('another doctor\'s certificate with our doctor\'s signature: RequestWrongSigner', () => {
      const otherCert = issueCertificate(authorityKey, { doctor: other.address, protocolKey: protocolKey.publicKey(), hospital: HOSPITAL, validFrom: FROM, validUntil: UNTIL, serial: 10 });
      check(assembleAccessRequest(td, unhex(sig), otherCert), 'RequestWrongSigner');
    });

    test('a certificate expired by now: CertificateExpired', () => {
      const expiredCert = issueCertificate(authorityKey, { doctor: doctor.address, protocolKey: protocolKey.publicKey(), hospital: HOSPITAL, validFrom: FROM, validUntil: NOW, serial: 11 });
      check(assembleAccessRequest(td, unhex(sig), expiredCert), 'CertificateExpired');
    });

    test('at and after its expiry: RequestExpired', () => {
      check(request, 'RequestExpired', NOW + TTL);
      check(request, 'RequestExpired', NOW + TTL + 1);
    });

    test('checked by another hospital: RequestWrongHospital', () => {
      check(request, 'RequestWrongHospital', NOW, 'Hospital H2');
    });

    test('a ttl beyond the hospital\'s maximum: RequestExpiryTooFar', () => {
      check(request, 'RequestExpiryTooFar', NOW, 'Hospital H1', TTL - 1);
    });

    test('a revoked certificate: CertificateRevoked', () => {
      check(request, 'CertificateRevoked', NOW, 'Hospital H1', 600, statusAnswer(doctor.address, true));
    });

    test('a certificate serial the registry does not know: CertificateUnknown', () => {
      check(request, 'CertificateUnknown', NOW, 'Hospital H1', 600, statusAnswer(ethers.ZeroAddress));
    });

    test('a certificate serial the registry gives another doctor: CertificateMismatch', () => {
      check(request, 'CertificateMismatch', NOW, 'Hospital H1', 600, statusAnswer(other.address));
    });

    test('before the certificate\'s validFrom: CertificateNotYetValid', () => {
      check(request, 'CertificateNotYetValid', FROM - 1);
    });

    test('assembleAccessRequest with a certificate that is not JSON: MalformedJson', () => {
      throwsCode(() => assembleAccessRequest(td, unhex(sig), '{'), 'MalformedJson');
    });

    test('accessRequestTypedData with a 31-byte w: InvalidLength', () => {
      throwsCode(() => accessRequestTypedData({ hospital: 'H', w: new Uint8Array(31), now: NOW, ttl: TTL }), 'InvalidLength');
    });

    test('the wasm instance works after the refusals', () => {
      assertAlive();
    });
  });
});

// ------------------------------------ grants, anchors, handoffs (protocol v3)

/** ctx = u8 len(H1) ‖ H1 ‖ u64 BE T1 (docs/PROTOCOL.md §4), by Buffer. */
function ctxBytes(hospital, time) {
  const h = Buffer.from(hospital, 'utf8');
  const t = Buffer.alloc(8);
  t.writeBigUInt64BE(BigInt(time));
  return Buffer.concat([Buffer.of(h.length), h, t]);
}
/** X = HMAC-SHA-256(k_t, ctx ‖ "ehrchain/v1/X"), by node:crypto. */
const nodeX = (kt, hospital, time) =>
  new Uint8Array(crypto.createHmac('sha256', kt).update(ctxBytes(hospital, time)).update('ehrchain/v1/X').digest());
/** SHA-256("ehrchain/v1/anchor" ‖ salt ‖ doctor ‖ patient ‖ u8 len(Ty1) ‖ Ty1), by node:crypto. */
const nodeCommitment = (salt, doctor, patient, ty) => nodeSha256(Buffer.concat([
  Buffer.from('ehrchain/v1/anchor'), salt, unhex(doctor), unhex(patient), Buffer.of(ty.length), Buffer.from(ty),
]));
/** The fields of a 512-byte access pass (§5): 0x02 ‖ ctx ‖ k_t ‖ eh ‖ salt ‖ u8 len(Ty1) ‖ Ty1 ‖ σ ‖ zeros. */
function parsePass(pass) {
  assert.equal(pass.length, 512, 'A_pass is 512 bytes');
  assert.equal(pass[0], 2, 'pass version 2');
  let o = 1;
  const take = (n) => { const b = pass.subarray(o, o + n); o += n; return b; };
  const hospital = Buffer.from(take(take(1)[0])).toString('utf8');
  const time = Number(Buffer.from(take(8)).readBigUInt64BE());
  const [kt, eh, salt] = [take(32), take(32), take(32)];
  const recordType = Buffer.from(take(take(1)[0])).toString('latin1');
  const sigma = take(65);
  assert.ok(pass.subarray(o).every((b) => b === 0), 'zero padding');
  return { hospital, time, kt, eh, salt, recordType, sigma };
}
/** The registry's `recordStatus` answer, ABI-encoded by ethers. */
const recordStatusHex = (s) => ethers.AbiCoder.defaultAbiCoder().encode(
  ['bool', 'address', 'uint64', 'uint64', 'bytes32', 'uint64', 'bool', 'uint64'],
  [s.anchored ?? true, s.anchoredBy, s.serial, s.anchoredAt, h0x(s.commitment), s.recordTime, s.deleted ?? false, s.deletedAt ?? 0],
);
/** The registry's `certificateStatus` answer, ABI-encoded by ethers. */
const certificateStatusHex = (c) => ethers.AbiCoder.defaultAbiCoder().encode(
  ['address', 'uint64', 'uint64', 'bool', 'uint64'],
  [c.doctor, c.validFrom ?? 1_600_000_000, c.validUntil ?? 1_900_000_000, c.revoked ?? false, c.revokedAt ?? 0],
);

describe('grants, anchors and handoffs (protocol version 4: view tags in Trans) against ethers, eciesjs and node:crypto', () => {
  const doctorA = ethers.Wallet.createRandom(); // the anchoring doctor's account
  const keyB = Key.generate(); // doctor B's protocol key
  const patient = Key.generate(); // the patient's account key
  const kt = MaskKey.generate();
  const T1 = 1_700_000_500;
  const record = {
    hospital: 'Krankenhaus Süd – Ambulanz', time: T1, eh: new Uint8Array(crypto.randomBytes(32)),
    anchorSalt: ehr.generateAnchorSalt(), recordType: 'X-ray (chest)',
  };
  const commitment = ehr.anchorCommitment({ anchorSalt: record.anchorSalt, doctor: doctorA.address, patient: patient.address, recordType: record.recordType });
  const anchorAt = 1_700_000_600;
  const rs = (over = {}) => recordStatusHex({ anchoredBy: doctorA.address, serial: 42, anchoredAt: anchorAt, commitment, recordTime: T1, ...over });
  const cs = (over = {}) => certificateStatusHex({ doctor: doctorA.address, ...over });
  const expectedAnchor = { eh: record.eh, doctor: doctorA.address, serial: 42, recordTime: T1, anchoredAt: anchorAt };
  after(() => { keyB.free(); patient.free(); kt.free(); });

  test('anchorCommitment and generateAnchorSalt: SHA-256 of §4.1 as node:crypto computes it', () => {
    assert.deepEqual(commitment, nodeCommitment(record.anchorSalt, doctorA.address, patient.address, record.recordType));
    for (const ty of ['', 'a', 'T'.repeat(32)]) {
      const salt = ehr.generateAnchorSalt();
      assert.equal(salt.length, 32);
      assert.deepEqual(ehr.anchorCommitment({ anchorSalt: salt, doctor: doctorA.address, patient: patient.address, recordType: ty }), nodeCommitment(salt, doctorA.address, patient.address, ty));
    }
  });

  test('grantTypedData is the EIP-712 Grant of §5 (domain {name, version}); hashTypedData equals ethers.TypedDataEncoder.hash; x is X by node:crypto', () => {
    const r = prng(712);
    for (let i = 0; i < 20; i++) {
      const rec = { ...record, hospital: i === 0 ? 'H' : i === 1 ? 'h'.repeat(255) : `Hôpital ${'é'.repeat(r.int(100))}`, time: r.int(2 ** 31), eh: r.bytes(32) };
      const doctorKey = i % 2 ? keyB.publicKey() : Key.generate().publicKey();
      const json = kt.grantTypedData(doctorKey, rec);
      const td = JSON.parse(json);
      assert.equal(td.primaryType, 'Grant');
      assert.deepEqual(td.types.EIP712Domain, [{ name: 'name', type: 'string' }, { name: 'version', type: 'string' }]);
      assert.deepEqual(td.types.Grant, [
        { name: 'protocolKey', type: 'bytes' }, { name: 'eh', type: 'bytes32' }, { name: 'hospital', type: 'string' },
        { name: 'recordTime', type: 'uint64' }, { name: 'x', type: 'bytes32' },
      ]);
      const { domain, types, message } = forEthers(json);
      assert.deepEqual(domain, { name: 'ehrchain', version: '1' });
      assert.deepEqual(
        { ...message, recordTime: Number(message.recordTime) },
        { protocolKey: h0x(doctorKey), eh: h0x(rec.eh), hospital: rec.hospital, recordTime: rec.time, x: h0x(nodeX(kt.exportSecret(), rec.hospital, rec.time)) },
      );
      assert.deepEqual(message.x, h0x(kt.index(rec)));
      assert.equal(h0x(hashTypedData(json)), ethers.TypedDataEncoder.hash(domain, types, message));
    }
    // The typed data does not cover the anchor opening: it may be left out.
    const { eh, hospital, time } = record;
    assert.equal(kt.grantTypedData(keyB.publicKey(), { eh, hospital, time }), kt.grantTypedData(keyB.publicKey(), record));
  });

  test('an ethers Wallet\'s signTypedData of grantTypedData: authoriseSigned accepts it, B\'s open names the wallet, confirmGrant accepts it', async () => {
    const wallet = ethers.Wallet.createRandom();
    const rec = { ...record, eh: new Uint8Array(crypto.randomBytes(32)) };
    const { domain, types, message } = forEthers(kt.grantTypedData(keyB.publicKey(), rec));
    const sig = await wallet.signTypedData(domain, types, message);
    assert.equal(ethers.verifyTypedData(domain, types, message, sig), wallet.address);
    assert.equal(recoverTypedData(kt.grantTypedData(keyB.publicKey(), rec), unhex(sig)), wallet.address);
    const parts = kt.authoriseSigned(keyB.publicKey(), rec, { signature: sig, patient: wallet.address });
    assert.equal(parts.c1.length, 609);
    const opened = new ehr.Scanner(keyB).open(parts);
    assert.equal(opened.patient, wallet.address);
    assert.deepEqual(parsePass(eciesOpen(keyB, parts.c1)).sigma, unhex(sig), 'the wallet\'s signature is the pass\'s σ');
    const c = ehr.anchorCommitment({ anchorSalt: rec.anchorSalt, doctor: doctorA.address, patient: wallet.address, recordType: rec.recordType });
    const anchor = ehr.confirmGrant(opened, { recordStatus: rs({ commitment: c }), certificateStatus: cs() });
    assert.deepEqual(anchor, { ...expectedAnchor, eh: rec.eh });
    // The same signature for another patient address, or over another doctor's key: WrongSigner.
    throwsCode(() => kt.authoriseSigned(keyB.publicKey(), rec, { signature: sig, patient: patient.address }), 'WrongSigner', 'another address');
    throwsCode(() => kt.authoriseSigned(Key.generate().publicKey(), rec, { signature: sig, patient: wallet.address }), 'WrongSigner', 'another doctor');
    throwsCode(() => kt.authoriseSigned(keyB.publicKey(), { ...rec, time: T1 + 1 }, { signature: sig, patient: wallet.address }), 'WrongSigner', 'another time');
    throwsCode(() => kt.authoriseSigned(keyB.publicKey(), rec, { signature: sig.slice(0, -2), patient: wallet.address }), 'InvalidLength', '64-byte signature');
    throwsCode(() => kt.authoriseSigned(keyB.publicKey(), rec, { signature: 'zz', patient: wallet.address }), 'InvalidHex', 'not hex');
  });

  test('MaskKey.authorise (the library\'s own signature): σ in the pass, opened with eciesjs, verifies in ethers as the patient B\'s open names', () => {
    const parts = kt.authorise(keyB.publicKey(), record, patient);
    const pass = parsePass(new Uint8Array(ecies.decrypt(keyB.exportSecret(), parts.c1)));
    assert.deepEqual(
      { hospital: pass.hospital, time: pass.time, kt: pass.kt, eh: pass.eh, salt: pass.salt, recordType: pass.recordType },
      { hospital: record.hospital, time: T1, kt: kt.exportSecret(), eh: record.eh, salt: record.anchorSalt, recordType: record.recordType },
    );
    const { domain, types, message } = forEthers(kt.grantTypedData(keyB.publicKey(), record));
    const viaEthers = ethers.verifyTypedData(domain, types, message, h0x(pass.sigma));
    assert.equal(viaEthers, ethers.computeAddress(h0x(patient.exportSecret())));
    assert.deepEqual(pass.sigma, patient.signTypedData(kt.grantTypedData(keyB.publicKey(), record)), 'RFC 6979: the same σ as signTypedData');
    const opened = new ehr.Scanner(keyB).open(parts);
    assert.equal(opened.patient, viaEthers);
    assert.deepEqual(ehr.confirmGrant(opened, { recordStatus: rs(), certificateStatus: cs() }), expectedAnchor);
  });

  test('a grant built outside the library (ethers ECDH and signature, eciesjs, node:crypto) is found and opened by the Scanner', async () => {
    const wallet = ethers.Wallet.createRandom();
    const ktBytes = crypto.randomBytes(32);
    const { domain, types, message } = forEthers(MaskKey.fromBytes(ktBytes).grantTypedData(keyB.publicKey(), record));
    const sigma = unhex(await wallet.signTypedData(domain, types, message));
    const ty = Buffer.from(record.recordType);
    const body = Buffer.concat([Buffer.of(2), ctxBytes(record.hospital, T1), ktBytes, record.eh, record.anchorSalt, Buffer.of(ty.length), ty, sigma]);
    const pass = Buffer.concat([body, Buffer.alloc(512 - body.length)]);
    const r = new ethers.SigningKey(ethers.Wallet.createRandom().privateKey);
    const R = unhex(r.compressedPublicKey);
    const shared = unhex(r.computeSharedSecret(h0x(keyB.publicKey())));
    const ST = unhex(ethers.SigningKey.computePublicKey(h0x(ehr.h1(shared)), true));
    // The view tag (docs/PROTOCOL.md §5), from node:crypto's SHA-256 of the label and the compressed shared point.
    const compressedShared = unhex(ethers.SigningKey.computePublicKey(h0x(shared), true));
    const viewTag = crypto.createHash('sha256').update('ehrchain/v1/view-tag').update(compressedShared).digest()[0];
    const c1 = new Uint8Array(ecies.encrypt(hex(keyB.publicKey()), pass));
    assert.equal(c1.length, 609);
    const scanner = new ehr.Scanner(keyB);
    assert.equal(scanner.matches({ viewTag, r: R, st: ST }), true);
    assert.equal(scanner.matches({ viewTag: viewTag ^ 1, r: R, st: ST }), false, 'another view tag is no match');
    const opened = scanner.open({ viewTag, r: R, st: ST, c1 });
    assert.equal(opened.patient, wallet.address);
    assert.deepEqual(opened.maskKey.exportSecret(), new Uint8Array(ktBytes));
    assert.deepEqual([opened.hospital, opened.time, opened.recordType], [record.hospital, T1, record.recordType]);
    // A one-byte-shorter pass (C1 of 608 bytes) is refused before decryption.
    throwsCode(() => scanner.open({ viewTag, r: R, st: ST, c1: new Uint8Array(ecies.encrypt(hex(keyB.publicKey()), pass.subarray(0, 511))) }), 'InvalidLength', '608-byte C1');
  });

  test('every C1 is 609 bytes (the pass 512) for hospital names of 1 and 255 bytes and record types of 0 and 32 bytes', () => {
    for (const hospital of ['H', 'h'.repeat(255), 'é'.repeat(127)]) {
      for (const recordType of ['', 'T'.repeat(32)]) {
        const parts = kt.authorise(keyB.publicKey(), { ...record, hospital, recordType }, patient);
        assert.equal(parts.c1.length, 609, `hospital of ${Buffer.byteLength(hospital)} bytes, type of ${recordType.length}`);
        const pass = parsePass(eciesOpen(keyB, parts.c1));
        assert.deepEqual([pass.hospital, pass.recordType], [hospital, recordType]);
      }
    }
  });

  test('confirmGrant and checkHandoffAnchor on registry answers encoded by ethers: each rule of §4.1 with its exact code', () => {
    const parts = kt.authorise(keyB.publicKey(), record, patient);
    const opened = new ehr.Scanner(keyB).open(parts);
    const stranger = Key.generate();
    const forged = new ehr.Scanner(keyB).open(MaskKey.generate().authorise(keyB.publicKey(), record, stranger));
    const handoff = { ...record, txId: new Uint8Array(32), recordKey: new Uint8Array(16), filingSecret: new Uint8Array(32) };
    assert.deepEqual(ehr.confirmGrant(opened, { recordStatus: rs(), certificateStatus: cs() }), expectedAnchor);
    assert.deepEqual(ehr.checkHandoffAnchor(handoff, patient.address, { recordStatus: rs(), certificateStatus: cs() }), expectedAnchor);
    // Revoked after the anchoring (or in its block): still certified.
    assert.deepEqual(ehr.confirmGrant(opened, { recordStatus: rs(), certificateStatus: cs({ revoked: true, revokedAt: anchorAt }) }), expectedAnchor);
    const cases = [
      ['not anchored', rs({ anchored: false }), cs(), 'RecordNotAnchored', 'RecordNotAnchored'],
      ['deleted', rs({ deleted: true, deletedAt: anchorAt + 1 }), cs(), 'RecordDeleted', 'RecordDeleted'],
      ['another doctor\'s certificate', rs(), cs({ doctor: ethers.Wallet.createRandom().address }), 'AnchorNotCertified', 'AnchorNotCertified'],
      ['an unknown serial', rs(), cs({ doctor: ethers.ZeroAddress, validFrom: 0, validUntil: 0 }), 'AnchorNotCertified', 'AnchorNotCertified'],
      ['anchored before validFrom', rs(), cs({ validFrom: anchorAt + 1 }), 'AnchorNotCertified', 'AnchorNotCertified'],
      ['anchored at validUntil', rs(), cs({ validUntil: anchorAt }), 'AnchorNotCertified', 'AnchorNotCertified'],
      ['revoked before the anchoring', rs(), cs({ revoked: true, revokedAt: anchorAt - 1 }), 'AnchorNotCertified', 'AnchorNotCertified'],
      ['another time', rs({ recordTime: T1 + 1 }), cs(), 'GrantForged', 'AnchorMismatch'],
      ['a commitment to another patient', rs({ commitment: ehr.anchorCommitment({ anchorSalt: record.anchorSalt, doctor: doctorA.address, patient: stranger.address, recordType: record.recordType }) }), cs(), 'GrantForged', 'AnchorMismatch'],
      ['a commitment to another type', rs({ commitment: ehr.anchorCommitment({ anchorSalt: record.anchorSalt, doctor: doctorA.address, patient: patient.address, recordType: 'lab' }) }), cs(), 'GrantForged', 'AnchorMismatch'],
    ];
    for (const [what, r, c, grantCode, handoffCode] of cases) {
      throwsCode(() => ehr.confirmGrant(opened, { recordStatus: r, certificateStatus: c }), grantCode, `confirmGrant: ${what}`);
      throwsCode(() => ehr.checkHandoffAnchor(handoff, patient.address, { recordStatus: r, certificateStatus: c }), handoffCode, `checkHandoffAnchor: ${what}`);
    }
    // A stranger's signature over the real record, with a genuine anchor: GrantForged.
    assert.equal(forged.patient, stranger.address);
    throwsCode(() => ehr.confirmGrant(forged, { recordStatus: rs(), certificateStatus: cs() }), 'GrantForged', 'a stranger\'s grant');
    throwsCode(() => ehr.checkHandoffAnchor(handoff, stranger.address, { recordStatus: rs(), certificateStatus: cs() }), 'AnchorMismatch', 'the handoff checked for the stranger');
    throwsCode(() => ehr.confirmAnchor(record.eh, { recordStatus: '0x', certificateStatus: cs() }), 'AbiDecode', 'empty recordStatus answer');
    stranger.free();
  });

  test('a version-3 handoff opened with eciesjs has the §10 layout; one sealed by eciesjs in that layout opens with openHandoff', () => {
    const h = {
      hospital: record.hospital, time: T1, txId: new Uint8Array(crypto.randomBytes(32)), recordKey: generateRecordKey(),
      filingSecret: ehr.generateFilingSecret(), eh: record.eh, anchorSalt: record.anchorSalt, recordType: record.recordType,
    };
    const layout = (x) => Buffer.concat([
      Buffer.of(3), ctxBytes(x.hospital, x.time), x.txId, Buffer.of(x.recordKey.length), x.recordKey, x.filingSecret, x.eh, x.anchorSalt,
      Buffer.of(x.recordType.length), Buffer.from(x.recordType),
    ]);
    const sealed = ehr.sealHandoff(patient.publicKey(), h);
    assert.deepEqual(Buffer.from(ecies.decrypt(patient.exportSecret(), sealed)), layout(h));
    const h32 = { ...h, recordKey: new Uint8Array(crypto.randomBytes(32)), recordType: '' };
    assert.deepEqual(ehr.openHandoff(patient, ecies.encrypt(hex(patient.publicKey()), layout(h32))), h32);
    const v2 = layout(h);
    v2[0] = 2;
    throwsCode(() => ehr.openHandoff(patient, ecies.encrypt(hex(patient.publicKey()), v2)), 'MalformedEncoding', 'version 2');
    throwsCode(() => ehr.openHandoff(patient, ecies.encrypt(hex(patient.publicKey()), Buffer.concat([layout(h), Buffer.of(0)]))), 'MalformedEncoding', 'trailing byte');
    throwsCode(() => ehr.sealHandoff(patient.publicKey(), { ...h, anchorSalt: undefined }), 'InvalidArgument', 'no anchor salt');
  });
});

// -------------------------------------------------------------------- ECIES

describe('ECIES against eciesjs 0.5 (default configuration)', () => {
  test('eciesjs runs its default configuration', () => {
    const d = new EciesConfig();
    for (const cfg of [d, ECIES_CONFIG]) {
      assert.equal(cfg.ellipticCurve, 'secp256k1');
      assert.equal(cfg.isEphemeralKeyCompressed, false);
      assert.equal(cfg.isHkdfKeyCompressed, false);
      assert.equal(cfg.symmetricAlgorithm, 'aes-256-gcm');
      assert.equal(cfg.symmetricNonceLength, 16);
      assert.equal(cfg.ephemeralKeySize, 65);
    }
  });

  for (const size of [0, 1, 1000, 100_000]) {
    describe(`${size} byte${size === 1 ? '' : 's'}`, () => {
      const cfg = new EciesConfig();
      const rounds = Array.from({ length: 4 }, () => {
        const key = Key.generate();
        return { key, other: Key.generate(), privHex: hex(key.exportSecret()), data: new Uint8Array(crypto.randomBytes(size)) };
      });
      after(() => { for (const { key, other } of rounds) { key.free(); other.free(); } });

      test('eciesSeal (to the compressed or the uncompressed key) is 65 + 16 + 16 + n bytes with an uncompressed ephemeral key', () => {
        for (const { key, data } of rounds) {
          for (const pub of [key.publicKey(), key.publicKey({ uncompressed: true })]) {
            const sealed = eciesSeal(pub, data);
            assert.equal(sealed.length, 65 + 16 + 16 + size);
            assert.equal(sealed[0], 4);
          }
        }
      });

      test('eciesjs opens what eciesSeal sealed (hex or bytes secret, explicit or default configuration)', () => {
        for (const { key, privHex, data } of rounds) {
          for (const pub of [key.publicKey(), key.publicKey({ uncompressed: true })]) {
            const sealed = eciesSeal(pub, data);
            assert.deepEqual(new Uint8Array(ecies.decrypt(privHex, sealed, cfg)), data);
            assert.deepEqual(new Uint8Array(ecies.decrypt(privHex, sealed)), data);
            assert.deepEqual(new Uint8Array(ecies.decrypt(key.exportSecret(), sealed)), data);
          }
        }
      });

      test('eciesOpen opens what eciesjs sealed (hex public key in both forms, and bytes)', () => {
        for (const { key, data } of rounds) {
          for (const pub of [hex(key.publicKey()), hex(key.publicKey({ uncompressed: true })), key.publicKey()]) {
            assert.deepEqual(eciesOpen(key, ecies.encrypt(pub, data, cfg)), data);
            assert.deepEqual(eciesOpen(key, ecies.encrypt(pub, data)), data);
          }
        }
      });

      test('eciesOpen with the wrong key: EciesDecryptFailed', () => {
        for (const { key, other, data } of rounds) {
          throwsCode(() => eciesOpen(other, ecies.encrypt(hex(key.publicKey()), data)), 'EciesDecryptFailed');
        }
      });

      test('eciesjs with the wrong key fails to authenticate', () => {
        for (const { key, other, data } of rounds) {
          assert.throws(() => ecies.decrypt(hex(other.exportSecret()), eciesSeal(key.publicKey(), data)), GCM_AUTH_FAILED);
        }
      });
    });
  }

  describe('damaged ECIES ciphertexts', () => {
    const key = Key.generate();
    const sealed = ecies.encrypt(hex(key.publicKey()), new TextEncoder().encode('A_pass'));

    for (const i of [65, 70, 81, 90, 97, sealed.length - 1]) {
      test(`byte ${i} flipped: EciesDecryptFailed`, () => {
        const bad = sealed.slice();
        bad[i] ^= 1;
        throwsCode(() => eciesOpen(key, bad), 'EciesDecryptFailed', `byte ${i}`);
      });
    }

    test('an ephemeral key off the curve: InvalidPublicKey', () => {
      const offCurve = sealed.slice();
      offCurve[64] ^= 1;
      throwsCode(() => eciesOpen(key, offCurve), 'InvalidPublicKey');
    });

    test('an ephemeral key with the compressed prefix: InvalidPublicKey', () => {
      const compressedEph = sealed.slice();
      compressedEph[0] = 2;
      throwsCode(() => eciesOpen(key, compressedEph), 'InvalidPublicKey');
    });

    for (const len of [0, 1, 65, 96]) {
      test(`cut to ${len} bytes: EciesTooShort`, () => {
        throwsCode(() => eciesOpen(key, sealed.slice(0, len)), 'EciesTooShort', `length ${len}`);
      });
    }

    test('the wasm instance works after the refusals', () => {
      assertAlive();
    });
  });
});

// ---------------------------------------------------------------- bad input

describe('bad input from JS', () => {
  const key = Key.generate();
  const pub = key.publicKey();
  const upub = key.publicKey({ uncompressed: true });
  // A valid x with the wrong y, an x that is not on the curve, and x >= p.
  let notOnCurveX = 5n;
  for (;;) {
    const rhs = (notOnCurveX ** 3n + 7n) % P;
    // Euler's criterion: rhs is not a square mod p.
    let e = (P - 1n) / 2n, b = rhs, acc = 1n;
    while (e > 0n) { if (e & 1n) acc = (acc * b) % P; b = (b * b) % P; e >>= 1n; }
    if (acc === P - 1n) break;
    notOnCurveX++;
  }
  const badPoints = {
    'y + 1': (() => { const u = upub.slice(); u[64] ^= 1; return u; })(),
    'x not on curve (compressed)': new Uint8Array([2, ...be32(notOnCurveX)]),
    'x not on curve (uncompressed)': new Uint8Array([4, ...be32(notOnCurveX), ...be32(1n)]),
    'x = p': new Uint8Array([2, ...be32(P)]),
    'bad prefix 05': new Uint8Array([5, ...pub.slice(1)]),
    'hybrid prefix 06': new Uint8Array([6, ...upub.slice(1)]),
    'prefix 04 on 33 bytes': new Uint8Array([4, ...pub.slice(1)]),
    'prefix 02 on 65 bytes': new Uint8Array([2, ...upub.slice(1)]),
    'all zero (33)': new Uint8Array(33),
    'all zero (65)': new Uint8Array(65),
  };

  for (const len of [0, 1, 31, 33, 64, 65]) {
    test(`a ${len}-byte secret or mask key: InvalidLength`, () => {
      throwsCode(() => Key.fromBytes(new Uint8Array(len).fill(1)), 'InvalidLength', `secret of ${len}`);
      throwsCode(() => MaskKey.fromBytes(new Uint8Array(len).fill(1)), 'InvalidLength', `mask key of ${len}`);
    });
  }

  for (const len of [0, 1, 32, 34, 64, 66, 130]) {
    test(`a ${len}-byte public key (addressOf, eciesSeal, compressPublicKey, certificateTypedData): InvalidLength`, () => {
      const p = new Uint8Array(len).fill(2);
      throwsCode(() => addressOf(p), 'InvalidLength', `public key of ${len}`);
      throwsCode(() => eciesSeal(p, Uint8Array.of(1)), 'InvalidLength', `ECIES recipient of ${len}`);
      throwsCode(() => compressPublicKey(p), 'InvalidLength');
      throwsCode(() => certificateTypedData({ doctor: key.address, protocolKey: p, hospital: 'H', validFrom: 1, validUntil: 2, serial: 3 }), 'InvalidLength');
    });
  }

  for (const len of [0, 15, 17, 24, 31, 33]) {
    test(`a ${len}-byte record key (RecordEncryptor, RecordDecryptor): InvalidLength`, () => {
      throwsCode(() => new RecordEncryptor(new Uint8Array(len), new Uint8Array()), 'InvalidLength', `record key of ${len}`);
      throwsCode(() => new RecordDecryptor(new Uint8Array(len), new Uint8Array()), 'InvalidLength');
    });
  }

  test('a 31-byte expected hash (RecordDecryptor): InvalidLength', () => {
    throwsCode(() => new RecordDecryptor(new Uint8Array(16), new Uint8Array(), { segmentSize: 4096, expectedHash: new Uint8Array(31) }), 'InvalidLength');
  });

  test('a 31-byte tx_id (MaskKey.mask): InvalidLength', () => {
    throwsCode(() => MaskKey.generate().mask({ hospital: 'H', time: 1, txId: new Uint8Array(31), recordKey: new Uint8Array(16) }), 'InvalidLength');
  });

  test('a 33-byte Z (MaskKey.unmask): InvalidLength', () => {
    throwsCode(() => MaskKey.generate().unmask({ hospital: 'H', time: 1 }, { z: new Uint8Array(33), k: new Uint8Array(16) }), 'InvalidLength');
  });

  test('the wasm instance works after the length refusals', () => {
    assertAlive();
  });

  for (const [name, p] of Object.entries(badPoints)) {
    test(`point ${name}: InvalidPublicKey everywhere a public key is taken (ethers refuses it too)`, () => {
      throwsCode(() => addressOf(p), 'InvalidPublicKey', name);
      throwsCode(() => compressPublicKey(p), 'InvalidPublicKey', name);
      throwsCode(() => eciesSeal(p, Uint8Array.of(1, 2, 3)), 'InvalidPublicKey', name);
      throwsCode(() => ehr.h1(p), 'InvalidPublicKey', name);
      throwsCode(() => MaskKey.generate().authorise(p, grantRecord(), key), 'InvalidPublicKey', name);
      throwsCode(() => MaskKey.generate().grantTypedData(p, grantRecord()), 'InvalidPublicKey', name);
      throwsCode(() => ehr.sealHandoff(p, handoffFields()), 'InvalidPublicKey', name);
      throwsCode(() => issueCertificate(key, { doctor: key.address, protocolKey: p, hospital: 'H', validFrom: 1, validUntil: 2, serial: 3 }), 'InvalidPublicKey', name);
      assert.throws(() => ethers.computeAddress(h0x(p)), NOBLE_BAD_POINT, name);
      assertAlive();
    });
  }

  for (const t of [-1, -0.5, 1.5, NaN, Infinity, -Infinity, 2 ** 53, 1e300]) {
    test(`time ${t}: OutOfRange for every time, serial and ttl argument`, () => {
      const mk = MaskKey.generate();
      throwsCode(() => recordAssociatedData({ hospital: 'H', time: t }), 'OutOfRange', `time ${t}`);
      throwsCode(() => mk.index({ hospital: 'H', time: t }), 'OutOfRange', `index time ${t}`);
      throwsCode(() => mk.authorise(pub, grantRecord({ time: t }), key), 'OutOfRange');
      throwsCode(() => mk.grantTypedData(pub, grantRecord({ time: t })), 'OutOfRange');
      throwsCode(() => certificateTypedData({ doctor: key.address, protocolKey: pub, hospital: 'H', validFrom: t, validUntil: 2 ** 40, serial: 1 }), 'OutOfRange', `validFrom ${t}`);
      throwsCode(() => certificateTypedData({ doctor: key.address, protocolKey: pub, hospital: 'H', validFrom: 1, validUntil: t, serial: 1 }), 'OutOfRange', `validUntil ${t}`);
      throwsCode(() => certificateTypedData({ doctor: key.address, protocolKey: pub, hospital: 'H', validFrom: 1, validUntil: 2, serial: t }), 'OutOfRange', `serial ${t}`);
      throwsCode(() => accessRequestTypedData({ hospital: 'H', w: new Uint8Array(32), now: t, ttl: 60 }), 'OutOfRange', `now ${t}`);
      throwsCode(() => accessRequestTypedData({ hospital: 'H', w: new Uint8Array(32), now: 1, ttl: t }), 'OutOfRange', `ttl ${t}`);
      throwsCode(() => ehr.sealHandoff(pub, handoffFields({ time: t })), 'OutOfRange');
      mk.free();
    });
  }

  test('now + ttl past 2^53-1: OutOfRange', () => {
    throwsCode(() => accessRequestTypedData({ hospital: 'H', w: new Uint8Array(32), now: 1e11 - 1, ttl: 2 ** 53 - 1 }), 'OutOfRange');
  });

  test('a ttl of 0 (a request valid for no time): OutOfRange, from accessRequestTypedData, signAccessRequest and signUploadRequest', () => {
    const cert = issueCertificate(key, { doctor: key.address, protocolKey: pub, hospital: 'H', validFrom: 1, validUntil: 100, serial: 1 });
    throwsCode(() => accessRequestTypedData({ hospital: 'H', w: new Uint8Array(32), now: 5, ttl: 0 }), 'OutOfRange', 'typed data, ttl 0');
    throwsCode(() => signAccessRequest(key, cert, { hospital: 'H', w: new Uint8Array(32), now: 5, ttl: 0 }), 'OutOfRange', 'signed, ttl 0');
    const upload = { hospital: 'H', eh: new Uint8Array(32), size: 100, filing: new Uint8Array(32), now: 5, ttl: 0 };
    throwsCode(() => ehr.signUploadRequest(key, cert, upload), 'OutOfRange', 'upload, ttl 0');
    assert.equal(typeof ehr.signUploadRequest(key, cert, { ...upload, ttl: 60 }), 'string');
  });

  test('signAccessRequest and signUploadRequest with a certificate not valid at now: CertificateNotYetValid before validFrom, CertificateExpired from validUntil', () => {
    const cert = issueCertificate(key, { doctor: key.address, protocolKey: pub, hospital: 'H', validFrom: 10, validUntil: 100, serial: 1 });
    throwsCode(() => signAccessRequest(key, cert, { hospital: 'H', w: new Uint8Array(32), now: 9, ttl: 60 }), 'CertificateNotYetValid');
    throwsCode(() => signAccessRequest(key, cert, { hospital: 'H', w: new Uint8Array(32), now: 100, ttl: 60 }), 'CertificateExpired');
    assert.equal(typeof signAccessRequest(key, cert, { hospital: 'H', w: new Uint8Array(32), now: 99, ttl: 60 }), 'string');
    const upload = { hospital: 'H', eh: new Uint8Array(32), size: 100, filing: new Uint8Array(32), ttl: 60 };
    throwsCode(() => ehr.signUploadRequest(key, cert, { ...upload, now: 9 }), 'CertificateNotYetValid', 'upload before validFrom');
    throwsCode(() => ehr.signUploadRequest(key, cert, { ...upload, now: 100 }), 'CertificateExpired', 'upload at validUntil');
  });

  test('verifyCertificate at a time that is negative or not an integer: OutOfRange', () => {
    const cert = issueCertificate(key, { doctor: key.address, protocolKey: pub, hospital: 'H', validFrom: 1, validUntil: 10, serial: 1 });
    for (const t of [-1, 2.5, NaN]) {
      throwsCode(() => verifyCertificate(cert, { authority: key.address, at: t, revoked: false }), 'OutOfRange', `time ${t}`);
    }
  });

  test('the largest allowed time, 10^11 - 1 (Unix seconds), is accepted', () => {
    assert.equal(recordAssociatedData({ hospital: 'H', time: 1e11 - 1 }).length > 0, true);
    assert.equal(MaskKey.generate().index({ hospital: 'H', time: 1e11 - 1 }).length, 32);
    assertAlive();
  });

  for (const [what, t] of [['10^11', 1e11], ['Date.now() (milliseconds)', Date.now()], ['2^53-1', 2 ** 53 - 1]]) {
    test(`time ${what}: TimeInMilliseconds for every time argument`, () => {
      const mk = MaskKey.generate();
      const cert = issueCertificate(key, { doctor: key.address, protocolKey: pub, hospital: 'H', validFrom: 1, validUntil: 100, serial: 1 });
      throwsCode(() => recordAssociatedData({ hospital: 'H', time: t }), 'TimeInMilliseconds', `record time ${t}`);
      throwsCode(() => mk.index({ hospital: 'H', time: t }), 'TimeInMilliseconds', `index time ${t}`);
      throwsCode(() => mk.grantTypedData(pub, grantRecord({ time: t })), 'TimeInMilliseconds', `grant time ${t}`);
      throwsCode(() => certificateTypedData({ doctor: key.address, protocolKey: pub, hospital: 'H', validFrom: 1, validUntil: t, serial: 1 }), 'TimeInMilliseconds', `validUntil ${t}`);
      throwsCode(() => accessRequestTypedData({ hospital: 'H', w: new Uint8Array(32), now: t, ttl: 60 }), 'TimeInMilliseconds', `now ${t}`);
      throwsCode(() => verifyCertificate(cert, { authority: key.address, at: t }), 'TimeInMilliseconds', `at ${t}`);
      throwsCode(() => ehr.sealHandoff(pub, handoffFields({ time: t })), 'TimeInMilliseconds', `handoff time ${t}`);
      mk.free();
    });
  }

  // Missing arguments and handles of the wrong class are the package's
  // InvalidArgument; a freed handle is ObjectFreed.
  const missingOrForeign = {
    'null bytes': [() => ehr.sha256(null), 'InvalidArgument'],
    'undefined bytes': [() => eciesSeal(pub), 'InvalidArgument'],
    'null string': [() => hashTypedData(null), 'InvalidArgument'],
    'undefined string': [() => checksumAddress(), 'InvalidArgument'],
    'object as Key': [() => eciesOpen({}, new Uint8Array(200)), 'InvalidArgument'],
    'MaskKey as Key': [() => eciesOpen(MaskKey.generate(), new Uint8Array(200)), 'InvalidArgument'],
    'null as Key': [() => new ehr.Scanner(null), 'InvalidArgument'],
    'an imitation Key (Key.prototype)': [() => eciesOpen(Object.create(Key.prototype), new Uint8Array(200)), 'InvalidArgument'],
    'freed Key': [() => { const k = Key.generate(); k.free(); return k.signMessage(Uint8Array.of(1)); }, 'ObjectFreed'],
    'freed Key as an argument': [() => { const k = Key.generate(); k.free(); return eciesOpen(k, new Uint8Array(200)); }, 'ObjectFreed'],
    'freed MaskKey': [() => { const k = MaskKey.generate(); k.free(); return k.index({ hospital: 'H', time: 1 }); }, 'ObjectFreed'],
  };
  for (const [name, [fn, code]] of Object.entries(missingOrForeign)) {
    test(`wrong types: ${name} is refused (${code}), the instance survives`, () => {
      throwsCode(fn, code, name);
      assertAlive();
    });
  }

  for (const value of [5, {}, true, [1, 2], Uint8Array.of(1)]) {
    test(`wrong types: ${value instanceof Uint8Array ? 'a Uint8Array' : JSON.stringify(value)} where a string is expected: InvalidArgument, not a wasm trap; the instance survives`, () => {
      throwsCode(() => hashTypedData(value), 'InvalidArgument', `hashTypedData(${value})`);
      throwsCode(() => checksumAddress(value), 'InvalidArgument', `checksumAddress(${value})`);
      throwsCode(() => recordAssociatedData({ hospital: value, time: 1 }), 'InvalidArgument', `recordAssociatedData(${value})`);
      assertAlive();
    });
  }

  describe('wrong types: a string (or other non-byte value) where content bytes are expected: InvalidArgument', () => {
    const enc = new RecordEncryptor(generateRecordKey(), new Uint8Array());
    const cases = {
      'sha256(string)': () => sha256('hello'),
      'keccak256(string)': () => keccak256('hello'),
      'eciesSeal(pub, string)': () => eciesSeal(pub, 'secret pass'),
      'RecordEncryptor.push(string)': () => enc.push('patient record text'),
      'signMessage(string)': () => key.signMessage('hello'),
      'sha256(ArrayBuffer)': () => sha256(new ArrayBuffer(8)),
      'sha256(number)': () => sha256(42),
      'sha256(Uint16Array)': () => sha256(Uint16Array.of(0x1234)),
    };
    for (const [name, fn] of Object.entries(cases)) {
      test(name, () => throwsCode(fn, 'InvalidArgument', name));
    }
  });

  describe('keys, hashes and other non-content bytes: a hex string (0x optional, either case) is the same bytes; anything else is InvalidHex', () => {
    test('eciesSeal to a hex public key (without 0x, with 0x, with 0X upper-case) opens with the key', () => {
      for (const p of [hex(pub), h0x(pub), '0X' + hex(pub).toUpperCase(), h0x(upub)]) {
        assert.deepEqual(eciesOpen(key, eciesSeal(p, Uint8Array.of(1, 2))), Uint8Array.of(1, 2), p);
      }
    });

    test('Key.fromBytes, addressOf, MaskKey.unmask and RecordDecryptor take hex as they take bytes', () => {
      const secret = new Uint8Array(crypto.randomBytes(32));
      assert.equal(Key.fromBytes(h0x(secret)).address, Key.fromBytes(secret).address);
      assert.equal(addressOf(hex(upub)), key.address);
      const mk = MaskKey.generate();
      const rec = { hospital: 'H', time: 1, txId: new Uint8Array(crypto.randomBytes(32)), recordKey: generateRecordKey() };
      const { z, k } = mk.mask(rec);
      assert.deepEqual(mk.unmask(rec, { z: h0x(z), k: hex(k) }), { txId: rec.txId, recordKey: rec.recordKey });
      mk.free();
      const rk = generateRecordKey();
      const e = new RecordEncryptor(hex(rk), new Uint8Array());
      const ct = concat([e.push(Uint8Array.of(9)), e.finish()]);
      const d = new RecordDecryptor(h0x(rk), new Uint8Array(), { expectedHash: h0x(e.hash) });
      assert.deepEqual(concat([d.push(ct), d.finish()]), Uint8Array.of(9));
    });

    for (const [what, text] of [['odd length', '0xabc'], ['not hex', '0xzz'], ['text', 'hello'], ['0x twice', '0x0x' + 'ab'.repeat(32)]]) {
      test(`a public key or secret as ${what}: InvalidHex`, () => {
        throwsCode(() => eciesSeal(text, Uint8Array.of(1)), 'InvalidHex', `recipient ${text}`);
        throwsCode(() => Key.fromBytes(text), 'InvalidHex', `secret ${text}`);
      });
    }
  });

  // Non-integer, beyond u32 or not a number: refused, not truncated or wrapped.
  for (const [s, code] of [[4096.7, 'OutOfRange'], [2 ** 32 + 4096, 'InvalidStreamParams'], ['4096', 'InvalidArgument']]) {
    test(`segment size ${JSON.stringify(s)}: ${code}, not truncated or wrapped`, () => {
      const k = generateRecordKey();
      throwsCode(() => new RecordEncryptor(k, new Uint8Array(), { segmentSize: s }), code, `encryptor, segment size ${s}`);
      throwsCode(() => new RecordDecryptor(k, new Uint8Array(), { segmentSize: s }), code, `decryptor, segment size ${s}`);
    });
  }

  for (const s of [0, 1, 24, 40, 64 * 2 ** 20 + 1]) {
    test(`segment size ${s} (outside 41..64 MiB): InvalidStreamParams`, () => {
      const k = generateRecordKey();
      throwsCode(() => new RecordEncryptor(k, new Uint8Array(), { segmentSize: s }), 'InvalidStreamParams', `segment size ${s}`);
      throwsCode(() => new RecordDecryptor(k, new Uint8Array(), { segmentSize: s }), 'InvalidStreamParams', `segment size ${s}`);
    });
  }

  test('segment size -1: OutOfRange', () => {
    throwsCode(() => new RecordEncryptor(generateRecordKey(), new Uint8Array(), { segmentSize: -1 }), 'OutOfRange', 'segment size -1');
  });

  test('the smallest segment size, header (24) + tag (16) + 1 = 41, is accepted', () => {
    new RecordEncryptor(generateRecordKey(), new Uint8Array(), { segmentSize: 41 }).free();
  });

  test('a 32-byte key with a segment too small for its 40-byte header and tag: InvalidStreamParams', () => {
    throwsCode(() => new RecordEncryptor(new Uint8Array(32), new Uint8Array(), { segmentSize: 56 }), 'InvalidStreamParams');
    assertAlive();
  });

  describe('a non-boolean `revoked` flag does not silently mean "not revoked"', () => {
    const cert = issueCertificate(key, { doctor: key.address, protocolKey: pub, hospital: 'H', validFrom: 1, validUntil: 100, serial: 1 });
    const req = signAccessRequest(key, cert, { hospital: 'H', w: new Uint8Array(32), now: 5, ttl: 60 });

    test('the real boolean true: CertificateRevoked', () => {
      throwsCode(() => verifyCertificate(cert, { authority: key.address, at: 5, revoked: true }), 'CertificateRevoked');
    });

    for (const flag of ['true', 'yes', { revoked: true }, null, 1]) {
      test(`revoked = ${JSON.stringify(flag)}: InvalidArgument (verifyCertificate)`, () => {
        throwsCode(() => verifyCertificate(cert, { authority: key.address, at: 5, revoked: flag }), 'InvalidArgument', `revoked = ${JSON.stringify(flag)}`);
      });
    }

    test('revoked left out (absent or undefined) is the documented default, not revoked: the fields are returned', () => {
      for (const opts of [{ authority: key.address, at: 5 }, { authority: key.address, at: 5, revoked: undefined }]) {
        const fields = verifyCertificate(cert, opts);
        assert.deepEqual([fields.doctor, fields.serial, fields.validFrom, fields.validUntil], [key.address, 1, 1, 100]);
      }
    });

    test('a misspelt option (revokd) or a missing options object: InvalidArgument, never silently ignored', () => {
      throwsCode(() => verifyCertificate(cert, { authority: key.address, at: 5, revokd: true }), 'InvalidArgument', 'revokd');
      throwsCode(() => verifyCertificate(cert), 'InvalidArgument', 'no options');
      throwsCode(() => verifyCertificate(cert, key.address, 5, true), 'InvalidArgument', 'the old positional form');
    });
  });

  describe('verifyAccessRequest takes the registry\'s answer, never a flag', () => {
    const cert = issueCertificate(key, { doctor: key.address, protocolKey: pub, hospital: 'H', validFrom: 1, validUntil: 100, serial: 1 });
    const req = signAccessRequest(key, cert, { hospital: 'H', w: new Uint8Array(32), now: 5, ttl: 60 });

    for (const status of [false, true, { revoked: false }, undefined, null, 0]) {
      test(`certificateStatus = ${JSON.stringify(status) ?? 'undefined'}: InvalidArgument`, () => {
        throwsCode(() => verifyAccessRequest(req, { authority: key.address, hospital: 'H', now: 5, maxTtl: 600, certificateStatus: status }), 'InvalidArgument');
      });
    }

    test('text that is not hex: InvalidHex', () => {
      throwsCode(() => verifyAccessRequest(req, { authority: key.address, hospital: 'H', now: 5, maxTtl: 600, certificateStatus: 'false' }), 'InvalidHex');
    });

    test('an empty or short eth_call answer: AbiDecode', () => {
      throwsCode(() => verifyAccessRequest(req, { authority: key.address, hospital: 'H', now: 5, maxTtl: 600, certificateStatus: '0x' }), 'AbiDecode');
      throwsCode(() => verifyAccessRequest(req, { authority: key.address, hospital: 'H', now: 5, maxTtl: 600, certificateStatus: '0x' + '00'.repeat(159) }), 'AbiDecode');
    });
  });

  describe('damaged record ciphertexts (push/finish)', () => {
    const recordKey = generateRecordKey();
    const ad = recordAssociatedData({ hospital: 'Hospital H1', time: 1_700_000_123 });
    const SEG = 256;
    // 16-byte key: header 24; segment 0 holds 256-24-16 = 216 plaintext bytes, later ones 240.
    const pt = new Uint8Array(crypto.randomBytes(2000));
    const enc = new RecordEncryptor(recordKey, ad, { segmentSize: SEG });
    const ct = new Uint8Array(Buffer.concat([enc.push(pt), enc.finish()]));
    const eh = enc.hash;
    const seg = (i) => (i === 0 ? [24, SEG] : [SEG * i, SEG * (i + 1)]);
    const decrypt = (c, { k = recordKey, a = ad, s = SEG, h, piece = 333 } = {}) => {
      const d = new RecordDecryptor(k, a, { segmentSize: s, expectedHash: h });
      const out = [];
      for (let i = 0; i < c.length; i += piece) out.push(d.push(c.subarray(i, i + piece)));
      out.push(d.finish());
      return { plaintext: new Uint8Array(Buffer.concat(out)), hash: d.hash };
    };

    test('the intact record is header + plaintext + one tag per segment; eh = SHA-256(ciphertext)', () => {
      assert.equal(ct.length, 24 + 2000 + 9 * 16);
      assert.deepEqual(eh, nodeSha256(ct));
    });

    for (const piece of [1, 7, 255, 256, 257, 5000]) {
      test(`the intact record round-trips fed in pieces of ${piece} bytes, with the hash`, () => {
        const r = decrypt(ct, { h: eh, piece });
        assert.deepEqual(r.plaintext, pt);
        assert.deepEqual(r.hash, eh);
      });
    }

    test('a finished encryptor refuses push and finish: StreamFinished', () => {
      throwsCode(() => enc.push(Uint8Array.of(1)), 'StreamFinished');
      throwsCode(() => enc.finish(), 'StreamFinished');
    });

    {
      const flip = (at) => { const c = ct.slice(); c[at] ^= 0x40; return c; };
      const cases = [
        ['segment 2 altered', () => decrypt(flip(seg(2)[0] + 10)), 'SegmentTampered'],
        ['tag of segment 5 altered', () => decrypt(flip(seg(5)[1] - 1)), 'SegmentTampered'],
        ['last segment altered', () => decrypt(flip(ct.length - 20)), 'SegmentTampered'],
        ['segment 0 altered', () => decrypt(flip(30)), 'WrongKeyOrAssociatedData'],
        ['salt altered', () => decrypt(flip(3)), 'WrongKeyOrAssociatedData'],
        ['nonce prefix altered', () => decrypt(flip(20)), 'WrongKeyOrAssociatedData'],
        ['wrong key', () => decrypt(ct, { k: generateRecordKey() }), 'WrongKeyOrAssociatedData'],
        ['wrong associated data', () => decrypt(ct, { a: recordAssociatedData({ hospital: 'Hospital H1', time: 1_700_000_124 }) }), 'WrongKeyOrAssociatedData'],
        ['wrong segment size', () => decrypt(ct, { s: 512 }), 'WrongKeyOrAssociatedData'],
        ['header length byte', () => { const c = ct.slice(); c[0] = 40; return decrypt(c); }, 'InvalidHeader'],
        ['header length byte 0', () => { const c = ct.slice(); c[0] = 0; return decrypt(c); }, 'InvalidHeader'],
        ['32-byte-key header for a 16-byte key', () => decrypt(ct, { k: new Uint8Array(32) }), 'InvalidHeader'],
        ['truncated at a segment boundary', () => decrypt(ct.slice(0, seg(3)[0])), 'Truncated'],
        ['truncated inside a tag', () => decrypt(ct.slice(0, seg(3)[0] + 5)), 'Truncated'],
        ['last segment dropped', () => decrypt(ct.slice(0, seg(8)[0])), 'Truncated'],
        ['only the header', () => decrypt(ct.slice(0, 24)), 'Truncated'],
        ['empty', () => decrypt(new Uint8Array(0)), 'Truncated'],
        ['10 bytes', () => decrypt(ct.slice(0, 10)), 'Truncated'],
        ['segments 1 and 2 swapped', () => {
          const c = ct.slice();
          c.set(ct.slice(...seg(2)), seg(1)[0]);
          c.set(ct.slice(...seg(1)), seg(2)[0]);
          return decrypt(c);
        }, 'SegmentOutOfOrder'],
        ['segment 3 duplicated over 4', () => {
          const c = ct.slice();
          c.set(ct.slice(...seg(3)), seg(4)[0]);
          return decrypt(c);
        }, 'SegmentOutOfOrder'],
        ['bytes appended', () => decrypt(new Uint8Array([...ct, ...new Uint8Array(20)])), 'SegmentTampered'],
        ['wrong expected hash', () => decrypt(ct, { h: nodeSha256(pt) }), 'HashMismatch'],
      ];
      for (const [name, fn, code] of cases) {
        test(`${name}: ${code}, and the instance works afterwards`, () => {
          throwsCode(fn, code, name);
          assertAlive();
        });
      }
    }

    test('after a failure a decryptor refuses push and finish (StreamFinished) and has no hash', () => {
      const bad = ct.slice();
      bad[seg(2)[0] + 1] ^= 1;
      const d = new RecordDecryptor(recordKey, ad, { segmentSize: SEG });
      throwsCode(() => d.push(bad), 'SegmentTampered');
      throwsCode(() => d.push(ct), 'StreamFinished');
      throwsCode(() => d.finish(), 'StreamFinished');
      assert.equal(d.hash, undefined);
    });

    test('after finishing a decryptor refuses push: StreamFinished', () => {
      const ok = new RecordDecryptor(recordKey, ad, { segmentSize: SEG });
      ok.push(ct);
      ok.finish();
      throwsCode(() => ok.push(Uint8Array.of(1)), 'StreamFinished');
      assertAlive();
    });
  });
});

// ------------------------------------------------------- TransformStreams

describe('records through TransformStreams', () => {
  const ad = recordAssociatedData({ hospital: 'General Hospital', time: 1_714_000_000 });

  async function roundTrip(size, segmentSize, keyLen = 16) {
    const key = keyLen === 16 ? generateRecordKey() : new Uint8Array(crypto.randomBytes(32));
    const data = new Uint8Array(crypto.randomBytes(size));
    const enc = new RecordEncryptor(key, ad, { segmentSize });
    assert.equal(enc.hash, undefined);
    const ct = await collect(new Blob([data]).stream().pipeThrough(enc.transform()));
    assert.deepEqual(enc.hash, nodeSha256(ct), 'eh = SHA-256(ciphertext)');
    const header = 1 + keyLen + 7;
    const first = segmentSize - header - 16;
    const segments = size <= first ? 1 : 1 + Math.ceil((size - first) / (segmentSize - 16));
    assert.equal(ct.length, header + size + 16 * segments);

    // Decrypt as a stream with the anchored hash, fed in odd-sized pieces.
    const dec = new RecordDecryptor(key, ad, { segmentSize, expectedHash: enc.hash });
    const pieces = new ReadableStream({
      start(c) {
        for (let i = 0; i < ct.length; i += 77_777) c.enqueue(ct.slice(i, i + 77_777));
        c.close();
      },
    });
    const back = await collect(pieces.pipeThrough(dec.transform()));
    assert.deepEqual(back, data);
    assert.deepEqual(dec.hash, enc.hash);

    // Both transforms chained, plaintext to plaintext.
    const enc2 = new RecordEncryptor(key, ad, { segmentSize });
    const dec2 = new RecordDecryptor(key, ad, { segmentSize });
    const back2 = await collect(new Blob([data]).stream().pipeThrough(enc2.transform()).pipeThrough(dec2.transform()));
    assert.deepEqual(back2, data);
    assert.deepEqual(dec2.hash, enc2.hash);
    assert.notDeepEqual(enc2.hash, enc.hash, 'fresh header each time');

    // push/finish and the stream produce the same format.
    const d3 = new RecordDecryptor(key, ad, { segmentSize, expectedHash: enc.hash });
    assert.deepEqual(new Uint8Array(Buffer.concat([d3.push(ct), d3.finish()])), data);
    return { key, ct, data };
  }

  test('0 bytes', async () => { await roundTrip(0, 4096); });
  test('1 byte', async () => { await roundTrip(1, 4096); });
  test('exactly one full first segment', async () => { await roundTrip(4096 - 24 - 16, 4096); });
  test('one full first segment and one more byte', async () => { await roundTrip(4096 - 24 - 16 + 1, 4096); });
  test('exactly two full segments', async () => { await roundTrip(4096 - 24 - 16 + 4080, 4096); });
  test('6 MiB in 4 KiB segments', async () => { await roundTrip(6 * 2 ** 20, 4096); });
  test('3 MiB + 5 in 1000-byte segments with a 32-byte key', async () => { await roundTrip(3 * 2 ** 20 + 5, 1000, 32); });
  test('2.5 MiB with the default 1 MiB segments', async () => {
    const key = generateRecordKey();
    const data = new Uint8Array(crypto.randomBytes(2.5 * 2 ** 20));
    const enc = new RecordEncryptor(key, ad);
    const ct = await collect(new Blob([data]).stream().pipeThrough(enc.transform()));
    assert.deepEqual(enc.hash, nodeSha256(ct));
    const dec = new RecordDecryptor(key, ad, { expectedHash: nodeSha256(ct) });
    assert.deepEqual(await collect(new Blob([ct]).stream().pipeThrough(dec.transform())), data);
  });

  describe('damaged streams error with the typed code', () => {
    let key, ct, data;
    before(async () => { ({ key, ct, data } = await roundTrip(100_000, 4096)); });
    const through = (c, opts = {}) => collect(new Blob([c]).stream()
      .pipeThrough(new RecordDecryptor(opts.key ?? key, ad, { segmentSize: 4096, expectedHash: opts.hash }).transform()));

    test('a flipped byte in segment 5: SegmentTampered', async () => {
      const tampered = ct.slice();
      tampered[4096 * 5 + 100] ^= 1;
      await rejectsCode(through(tampered), 'SegmentTampered');
    });

    test('cut at a segment boundary: Truncated', async () => {
      await rejectsCode(through(ct.slice(0, 4096 * 7)), 'Truncated');
    });

    test('cut inside a tag-sized tail after a boundary: Truncated', async () => {
      await rejectsCode(through(ct.slice(0, 4096 * 7 + 10)), 'Truncated');
    });

    // A cut inside a segment's body leaves a short last segment whose tag fails:
    // AEAD cannot tell this from tampering (documented in the crate).
    test('the last byte cut: SegmentTampered', async () => {
      await rejectsCode(through(ct.slice(0, ct.length - 1)), 'SegmentTampered');
    });

    test('the wrong key: WrongKeyOrAssociatedData', async () => {
      await rejectsCode(through(ct, { key: generateRecordKey() }), 'WrongKeyOrAssociatedData');
    });

    test('the wrong expected hash: HashMismatch', async () => {
      await rejectsCode(through(ct, { hash: nodeSha256(data) }), 'HashMismatch');
    });

    test('segments 2 and 3 swapped: SegmentOutOfOrder', async () => {
      const swapped = ct.slice();
      swapped.set(ct.slice(4096 * 3, 4096 * 4), 4096 * 2);
      swapped.set(ct.slice(4096 * 2, 4096 * 3), 4096 * 3);
      await rejectsCode(through(swapped), 'SegmentOutOfOrder');
    });

    test('a bad header length byte: InvalidHeader', async () => {
      const badHeader = ct.slice();
      badHeader[0] = 99;
      await rejectsCode(through(badHeader), 'InvalidHeader');
    });

    test('a chunk that is not a Uint8Array errors the stream (InvalidStreamParams), it does not corrupt it', async () => {
      const enc = new RecordEncryptor(key, ad, { segmentSize: 4096 });
      const strings = new ReadableStream({ start(c) { c.enqueue('not bytes'); c.close(); } });
      await rejectsCode(collect(strings.pipeThrough(enc.transform())), 'InvalidStreamParams');
    });

    test('a second transform() of an encryptor: StreamInUse (one object, one stream), also while the first runs', async () => {
      const used = new RecordEncryptor(key, ad, { segmentSize: 4096 });
      const first = used.transform();
      throwsCode(() => used.transform(), 'StreamInUse', 'second transform while the first runs');
      await collect(new Blob([data]).stream().pipeThrough(first));
      throwsCode(() => used.transform(), 'StreamInUse', 'second transform after the first');
    });

    test('transform() and push/finish are not mixed: StreamInUse either way', () => {
      const pushed = new RecordEncryptor(key, ad, { segmentSize: 4096 });
      pushed.push(Uint8Array.of(1));
      throwsCode(() => pushed.transform(), 'StreamInUse', 'transform after push');
      const streamed = new RecordDecryptor(key, ad, { segmentSize: 4096 });
      streamed.transform();
      throwsCode(() => streamed.push(ct), 'StreamInUse', 'push after transform');
      throwsCode(() => streamed.finish(), 'StreamInUse', 'finish after transform');
      pushed.free();
      streamed.free();
    });

    test('the wasm instance works after the stream errors', () => {
      assertAlive();
    });
  });
});

// ------------------------------------------------ the facade's object model

describe('objects that own wasm memory, and the error class', () => {
  test('Key and MaskKey have no public constructor: NotConstructible (the message names the factory)', () => {
    throwsCode(() => new Key(), 'NotConstructible', 'new Key()');
    throwsCode(() => new MaskKey(), 'NotConstructible', 'new MaskKey()');
    try { new Key(); } catch (e) { assert.match(e.message, /Key\.generate\(\)/); }
  });

  test('free() is idempotent and sets `freed`; Symbol.dispose frees too; any other use after it: ObjectFreed', () => {
    const k = Key.generate();
    assert.equal(k.freed, false);
    k.free();
    k.free();
    assert.equal(k.freed, true);
    throwsCode(() => k.address, 'ObjectFreed', 'address after free');
    throwsCode(() => k.publicKey(), 'ObjectFreed', 'publicKey after free');
    const m = MaskKey.generate();
    m[Symbol.dispose]();
    assert.equal(m.freed, true);
    throwsCode(() => m.exportSecret(), 'ObjectFreed', 'MaskKey after dispose');
    const enc = new RecordEncryptor(generateRecordKey(), new Uint8Array());
    enc.free();
    throwsCode(() => enc.push(Uint8Array.of(1)), 'ObjectFreed', 'encryptor after free');
    throwsCode(() => enc.hash, 'ObjectFreed', 'hash after free');
  });

  test('an opened grant owns its maskKey: free() and Symbol.dispose free it', () => {
    const doctor = Key.generate();
    const patient = Key.generate();
    const parts = MaskKey.generate().authorise(doctor.publicKey(), grantRecord(), patient);
    const scanner = new ehr.Scanner(doctor);
    const g1 = scanner.open(parts);
    assert.equal(g1.patient, patient.address);
    assert.equal(g1.maskKey.freed, false);
    g1.free();
    assert.equal(g1.maskKey.freed, true);
    throwsCode(() => g1.maskKey.index(g1), 'ObjectFreed', 'the maskKey of a freed grant');
    const g2 = scanner.open(parts);
    g2[Symbol.dispose]();
    assert.equal(g2.maskKey.freed, true);
    scanner.free();
    doctor.free();
    patient.free();
  });

  test('EhrchainError is exported: instanceof holds for the facade\'s and the core\'s errors, not for other errors', () => {
    const caught = (fn) => { try { fn(); } catch (e) { return e; } assert.fail('nothing thrown'); };
    const fromCore = caught(() => sha256(null));
    const fromFacade = caught(() => new Key());
    for (const e of [fromCore, fromFacade]) {
      assert.ok(e instanceof ehr.EhrchainError, `${e.code} instanceof EhrchainError`);
      assert.ok(e instanceof Error);
    }
    assert.equal(fromFacade.constructor, ehr.EhrchainError);
    assert.ok(!(new Error('x') instanceof ehr.EhrchainError));
    assert.ok(!(Object.assign(new Error('x'), { code: 'InvalidHex' }) instanceof ehr.EhrchainError), 'an error with a code but another name');
    const made = new ehr.EhrchainError('Reverted', 'm');
    assert.deepEqual([made.name, made.code, made.message], ['EhrchainError', 'Reverted', 'm']);
  });

  test('errorCodes() lists every code the package throws, the facade\'s ObjectFreed, NotConstructible and TimeInMilliseconds included', () => {
    for (const code of ['ObjectFreed', 'NotConstructible', 'TimeInMilliseconds', 'InvalidArgument', 'Reverted', 'StreamInUse']) {
      assert.ok(ehr.errorCodes().includes(code), code);
    }
  });
});

describe('unlocking a protocol key (docs/PROTOCOL.md §15) against ethers and node:crypto', () => {
  const N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141n;
  /** The derivation written from the spec with node:crypto's HKDF. */
  function derive(signature) {
    const ikm = unhex(signature.slice(2)).subarray(0, 64);
    const expand = (info) => new Uint8Array(crypto.hkdfSync('sha256', ikm, 'ehrchain/v1/unlock', info, 32));
    for (let c = 0; c < 256; c++) {
      const d = expand(Buffer.concat([Buffer.from('protocol key'), Buffer.from([c])]));
      const v = BigInt('0x' + hex(d));
      if (v > 0n && v < N) return { d, storage: expand(Buffer.from('storage key')) };
    }
    throw new Error('no key');
  }

  test('50 ethers wallets: personal_sign of unlockMessage gives the keys the spec derives', async () => {
    for (let i = 0; i < 50; i++) {
      const wallet = ethers.Wallet.createRandom();
      const text = ehr.unlockMessage(wallet.address.toLowerCase());
      assert.ok(text.includes(`Account: ${wallet.address}\n`), 'the text names the EIP-55 account');
      const signature = await wallet.signMessage(text);
      const { protocolKey, storageKey } = ehr.unlockKeys(wallet.address, signature);
      const expected = derive(signature);
      assert.equal(hex(protocolKey.exportSecret()), hex(expected.d));
      assert.equal(hex(storageKey), hex(expected.storage));
      // A second signature is the same (RFC 6979): the same keys on every device.
      assert.equal(hex(ehr.unlockKeys(wallet.address, await wallet.signMessage(text)).protocolKey.exportSecret()), hex(expected.d));
      protocolKey.free();
    }
  });

  test('the eth-account vectors (tests/vectors/unlock.json) unlock through the package', async () => {
    const { readFileSync } = await import('node:fs');
    const file = JSON.parse(readFileSync(new URL('../vectors/unlock.json', import.meta.url), 'utf8'));
    assert.ok(file.cases.length >= 5);
    for (const c of file.cases) {
      assert.equal(ehr.unlockMessage(c.account), c.message);
      const { protocolKey, storageKey } = ehr.unlockKeys(c.account, c.signature);
      assert.equal(hex(protocolKey.exportSecret()), c.protocol_secret);
      assert.equal(hex(protocolKey.publicKey()), c.protocol_public);
      assert.equal(hex(storageKey), c.storage_key);
      protocolKey.free();
    }
  });

  test('a signature by another account, of another text or for another account is WrongSigner', async () => {
    const a = ethers.Wallet.createRandom(), b = ethers.Wallet.createRandom();
    const byB = await b.signMessage(ehr.unlockMessage(a.address));
    const otherText = await a.signMessage('hello');
    const forB = await a.signMessage(ehr.unlockMessage(b.address));
    const good = await a.signMessage(ehr.unlockMessage(a.address));
    throwsCode(() => ehr.unlockKeys(a.address, byB), 'WrongSigner');
    throwsCode(() => ehr.unlockKeys(a.address, otherText), 'WrongSigner');
    throwsCode(() => ehr.unlockKeys(a.address, forB), 'WrongSigner');
    throwsCode(() => ehr.unlockKeys(a.address, '0x1234'), 'InvalidLength');
    throwsCode(() => ehr.unlockKeys('0x1234', good), 'InvalidAddress');
    ehr.unlockKeys(a.address, good).protocolKey.free();
    throwsCode(() => ehr.unlockKeys(a.address, 7), 'InvalidArgument');
  });
});

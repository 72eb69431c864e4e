//! The crate's chain support against a real local chain: one Hardhat 2
//! node per test run (`node_modules/.bin/hardhat`, installed by
//! scripts/setup.sh, with `chain/orphan-guard.cjs` so it dies with the test
//! process), the registry compiled once by `node chain/compile.js`, and a
//! fresh registry deployed by each test with a locally signed EIP-1559
//! transaction. One test per property; they share the node and take turns
//! (the accounts' nonces are the node's).
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use ehrchain::anchor::{AnchorOpening, RecordType};
use ehrchain::chain::abi::{encode, Token};
use ehrchain::chain::registry::{self, Event};
use ehrchain::grant::{AccessPass, Authorisation, GrantTerms, Scanner};
use ehrchain::mask::{MaskKey, RecordContext};
use ehrchain::record::RecordKey;
use ehrchain::{Address, Error, SecretKey};
use ehrchain_rpc::Client;

/// Hardhat's well-known test accounts (mnemonic "test … junk"): funded on the local node only.
const ACCOUNT_KEYS: [&str; 4] = [
    "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
];

/// The serial under which [`Chain::deploy`] certifies [`Chain::doctor`].
const SERIAL: u64 = 1;

struct Node(Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn start_chain() -> (Node, Client) {
    let root = &root();
    let hardhat = root.join("node_modules/.bin/hardhat");
    assert!(
        hardhat.exists(),
        "run scripts/setup.sh first: {} is missing",
        hardhat.display()
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let guard = root.join("chain/orphan-guard.cjs");
    let child = Command::new(hardhat)
        .args([
            "node",
            "--hostname",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ])
        .current_dir(root)
        .env("EHRCHAIN_ORPHAN_GUARD", "1")
        .env("NODE_OPTIONS", format!("--require {}", guard.display()))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let node = Node(child);
    let client = Client::new(&format!("http://127.0.0.1:{port}")).unwrap();
    let start = Instant::now();
    while client.chain_id().is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "hardhat node did not start"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    (node, client)
}

/// The registry's creation code, compiled once.
fn creation_code() -> Vec<u8> {
    let root = &root();
    let status = Command::new("node")
        .arg("chain/compile.js")
        .current_dir(root)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let artifact: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join(".tmp/contracts/EhrRegistry.json")).unwrap(),
    )
    .unwrap();
    ehrchain::hex::decode("bytecode", artifact["bytecode"].as_str().unwrap()).unwrap()
}

/// The node, its client, its funded accounts and the compiled registry.
struct Chain {
    _node: Node,
    client: Client,
    code: Vec<u8>,
    /// The authority (also the deployer).
    authority: SecretKey,
    /// A patient's account.
    patient: SecretKey,
    /// A stranger's account.
    stranger: SecretKey,
    /// A doctor's account, certified as [`SERIAL`] in every deployed registry.
    doctor: SecretKey,
}

impl Chain {
    /// A fresh registry whose authority is [`Chain::authority`], with
    /// [`Chain::doctor`] certified as [`SERIAL`].
    fn deploy(&self) -> Address {
        let mut code = self.code.clone();
        code.extend_from_slice(&encode(&[Token::Address(self.authority.address())]));
        let reg = self
            .client
            .send(&self.authority, None, &code)
            .unwrap()
            .contract_address
            .unwrap();
        let key = SecretKey::generate().unwrap().public_key();
        let call =
            registry::register_doctor(SERIAL, &self.doctor.address(), &key, 1, 4_000_000_000)
                .unwrap();
        self.send(&self.authority, &reg, &call).unwrap();
        reg
    }

    fn send(
        &self,
        from: &SecretKey,
        registry: &Address,
        call: &[u8],
    ) -> ehrchain::Result<ehrchain::chain::log::Receipt> {
        self.client.send(from, Some(registry), call)
    }

    /// A record anchored by the doctor for the patient in `registry`: its
    /// `eh` and transaction.
    fn anchored_record(&self, registry: &Address) -> ([u8; 32], [u8; 32]) {
        let (eh, tx, _) = self.anchored_with_opening(registry);
        (eh, tx)
    }

    /// [`Chain::anchored_record`], with the commitment's opening.
    fn anchored_with_opening(&self, registry: &Address) -> ([u8; 32], [u8; 32], AnchorOpening) {
        let (_, eh) =
            ehrchain::record::encrypt(&RecordKey::generate().unwrap(), b"ad", 4096, &[1u8; 10_000])
                .unwrap();
        let opening = radiology();
        let commitment = opening.commitment(&self.doctor.address(), &self.patient.address());
        let anchor = self
            .send(
                &self.doctor,
                registry,
                &registry::anchor_record(&eh, &commitment, 1_700_000_000, SERIAL).unwrap(),
            )
            .unwrap();
        (eh, anchor.transaction_hash, opening)
    }
}

/// The shared chain, one test at a time (a failed test does not poison it).
fn chain() -> MutexGuard<'static, Chain> {
    static CHAIN: OnceLock<Mutex<Chain>> = OnceLock::new();
    CHAIN
        .get_or_init(|| {
            let (node, client) = start_chain();
            let [authority, patient, stranger, doctor] =
                ACCOUNT_KEYS.map(|k| SecretKey::from_hex(k).unwrap());
            Mutex::new(Chain {
                _node: node,
                client,
                code: creation_code(),
                authority,
                patient,
                stranger,
                doctor,
            })
        })
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn radiology() -> AnchorOpening {
    AnchorOpening::generate(RecordType::new("radiology").unwrap()).unwrap()
}

/// A pass for `doctor`, signed by `patient`, for the record `eh` opened by `opening`.
fn pass_for(
    doctor: &ehrchain::PublicKey,
    patient: &SecretKey,
    (hospital, time): (&str, u64),
    eh: [u8; 32],
    opening: AnchorOpening,
) -> AccessPass {
    GrantTerms {
        doctor: *doctor,
        context: RecordContext::new(hospital, time).unwrap(),
        mask_key: MaskKey::generate().unwrap(),
        eh,
        opening,
    }
    .sign(patient)
    .unwrap()
}

/// A pass to `doctor` for a record that was never anchored.
fn pass(doctor: &ehrchain::PublicKey, hospital: &str, time: u64) -> AccessPass {
    let patient = SecretKey::generate().unwrap();
    pass_for(doctor, &patient, (hospital, time), [9; 32], radiology())
}

fn reverted(reason: &str) -> Error {
    Error::Reverted {
        reason: reason.into(),
    }
}

#[test]
fn the_local_chain_is_hardhats() {
    assert_eq!(chain().client.chain_id(), Ok(31337));
}

#[test]
fn only_the_authority_registers_a_doctor() {
    let c = chain();
    let reg = c.deploy();
    let key = SecretKey::generate().unwrap().public_key();
    let call = registry::register_doctor(7, &Address([0xbb; 20]), &key, 100, 200).unwrap();
    assert_eq!(
        c.send(&c.stranger, &reg, &call).map(|_| ()),
        Err(reverted("NotAuthority()"))
    );
    assert!(!c.client.certificate_status(&reg, 7).unwrap().registered());
}

#[test]
fn a_registered_certificate_reads_back_with_its_doctor_and_validity() {
    let c = chain();
    let reg = c.deploy();
    let key = SecretKey::generate().unwrap().public_key();
    let call = registry::register_doctor(7, &Address([0xbb; 20]), &key, 100, 200).unwrap();
    c.send(&c.authority, &reg, &call).unwrap();
    let s = c.client.certificate_status(&reg, 7).unwrap();
    assert_eq!(
        (s.doctor, s.valid_from, s.valid_until, s.revoked),
        (Address([0xbb; 20]), 100, 200, false)
    );
    assert!(!c.client.certificate_status(&reg, 8).unwrap().registered());
}

#[test]
fn a_revoked_certificate_reads_as_revoked() {
    let c = chain();
    let reg = c.deploy();
    let key = SecretKey::generate().unwrap().public_key();
    let call = registry::register_doctor(7, &Address([0xbb; 20]), &key, 100, 200).unwrap();
    c.send(&c.authority, &reg, &call).unwrap();
    c.send(&c.authority, &reg, &registry::revoke_doctor(7))
        .unwrap();
    assert!(c.client.certificate_status(&reg, 7).unwrap().revoked);
}

#[test]
fn an_anchored_record_is_found_from_its_transaction_alone() {
    let c = chain();
    let reg = c.deploy();
    let (eh, tx_id) = c.anchored_record(&reg);
    assert_eq!(c.client.anchored_eh(&reg, &tx_id), Ok(eh));
    let status = c.client.record_status(&reg, &eh).unwrap();
    assert_eq!(
        (
            status.anchored,
            status.deleted,
            status.anchored_by,
            status.serial
        ),
        (true, false, c.doctor.address(), SERIAL)
    );
}

#[test]
fn an_anchor_commits_to_its_patient_without_showing_the_type() {
    let c = chain();
    let reg = c.deploy();
    let (eh, _, opening) = c.anchored_with_opening(&reg);
    let anchor = c.client.certified_anchor(&reg, &eh).unwrap();
    assert!(anchor.binds(&eh, 1_700_000_000, &opening, &c.patient.address()));
    assert!(!anchor.binds(&eh, 1_700_000_000, &opening, &c.stranger.address()));
}

#[test]
fn a_stranger_cannot_squat_a_record_hash() {
    // The attack: whoever sees `eh` first (the hospital server during the
    // upload, a watcher of pending transactions) anchors it and owns its
    // tombstone. The registry refuses an anchor from anyone but a certified
    // doctor, under his own serial.
    let c = chain();
    let reg = c.deploy();
    let call = registry::anchor_record(&[7; 32], &[0; 32], 1, SERIAL).unwrap();
    for who in [&c.stranger, &c.patient, &c.authority] {
        assert_eq!(
            c.send(who, &reg, &call).map(|_| ()),
            Err(reverted("NotCertifiedDoctor(uint64)"))
        );
    }
    assert_eq!(
        c.client.certified_anchor(&reg, &[7; 32]),
        Err(Error::RecordNotAnchored)
    );
}

#[test]
fn a_revoked_doctor_cannot_anchor() {
    let c = chain();
    let reg = c.deploy();
    c.send(&c.authority, &reg, &registry::revoke_doctor(SERIAL))
        .unwrap();
    let call = registry::anchor_record(&[7; 32], &[0; 32], 1, SERIAL).unwrap();
    assert_eq!(
        c.send(&c.doctor, &reg, &call).map(|_| ()),
        Err(reverted("NotCertifiedDoctor(uint64)"))
    );
}

#[test]
fn a_record_is_anchored_once() {
    let c = chain();
    let reg = c.deploy();
    let (eh, _) = c.anchored_record(&reg);
    let again = registry::anchor_record(&eh, &[0; 32], 1, SERIAL).unwrap();
    assert_eq!(
        c.send(&c.doctor, &reg, &again).map(|_| ()),
        Err(reverted("AlreadyAnchored(bytes32)"))
    );
}

#[test]
fn only_the_anchorer_marks_a_record_deleted() {
    let c = chain();
    let reg = c.deploy();
    let (eh, _) = c.anchored_record(&reg);
    assert_eq!(
        c.send(&c.stranger, &reg, &registry::mark_deleted(&eh))
            .map(|_| ()),
        Err(reverted("NotAnchorOwner(bytes32)"))
    );
    assert!(!c.client.record_status(&reg, &eh).unwrap().deleted);
    c.send(&c.doctor, &reg, &registry::mark_deleted(&eh))
        .unwrap();
    assert!(c.client.record_status(&reg, &eh).unwrap().deleted);
    assert_eq!(
        c.client.certified_anchor(&reg, &eh),
        Err(Error::RecordDeleted)
    );
}

/// Among 21 grants on chain (one to him, one to him under a flipped view
/// tag, one with his view tag but another grant's `ST`, the rest to others)
/// the doctor's scan finds exactly the one.
#[test]
fn a_doctor_finds_exactly_the_grants_to_his_key_among_others() {
    let c = chain();
    let reg = c.deploy();
    let doctor_b = SecretKey::generate().unwrap();
    let (eh, _, opening) = c.anchored_with_opening(&reg);
    let mine = pass_for(
        &doctor_b.public_key(),
        &c.patient,
        ("St Mary", 1_700_000_000),
        eh,
        opening,
    );
    let senders = [&c.authority, &c.patient, &c.stranger];
    let mut first_block = u64::MAX;
    for i in 0..21usize {
        let auth = if i == 13 {
            Authorisation::create(&mine).unwrap()
        } else if i == 5 {
            // His grant under a flipped view tag: posted, carried, skipped.
            let mut flipped = Authorisation::create(&mine).unwrap();
            flipped.view_tag ^= 0xff;
            flipped
        } else if i == 8 {
            // His view tag with the ST of another grant to him: skipped too.
            let mut wrong_st = Authorisation::create(&mine).unwrap();
            wrong_st.st = Authorisation::create(&mine).unwrap().st;
            wrong_st
        } else {
            let someone = SecretKey::generate().unwrap().public_key();
            Authorisation::create(&pass(&someone, "H", i as u64)).unwrap()
        };
        let r = c
            .send(senders[i % 3], &reg, &registry::authorise(&auth))
            .unwrap();
        first_block = first_block.min(r.block_number);
    }
    let last = c.client.block_number().unwrap();
    let scanner_b = Scanner::new(doctor_b);
    // Pages of 4 blocks: the grant is found whatever page it falls in.
    let found = c
        .client
        .scan(&reg, &scanner_b, first_block, last, 4)
        .unwrap();
    assert_eq!(found.iter().map(|f| f.seq).collect::<Vec<_>>(), [13]);
    let opened = scanner_b.open(&found[0].authorisation).unwrap();
    let anchor = c.client.certified_anchor(&reg, &opened.eh()).unwrap();
    let grant = opened.confirm(&anchor).unwrap();
    assert_eq!(grant.patient, c.patient.address());
    let (got, want) = (&grant.pass.terms, &mine.terms);
    assert_eq!(
        got.mask_key.index(&got.context),
        want.mask_key.index(&want.context)
    );
    let doctor_c = Scanner::new(SecretKey::generate().unwrap());
    assert_eq!(
        c.client
            .scan(&reg, &doctor_c, 0, last, 1000)
            .map(|f| f.len()),
        Ok(0)
    );
}

#[test]
fn an_authorise_receipt_names_no_record() {
    let c = chain();
    let reg = c.deploy();
    let someone = SecretKey::generate().unwrap().public_key();
    let auth = Authorisation::create(&pass(&someone, "H", 1)).unwrap();
    let r = c
        .send(&c.patient, &reg, &registry::authorise(&auth))
        .unwrap();
    assert_eq!(
        c.client.anchored_eh(&reg, &r.transaction_hash),
        Err(Error::EventNotFound)
    );
}

#[test]
fn an_unknown_transaction_is_not_found() {
    let c = chain();
    let reg = c.deploy();
    assert_eq!(
        c.client.anchored_eh(&reg, &[0x42; 32]),
        Err(Error::TransactionNotFound)
    );
}

#[test]
fn an_anchoring_in_another_registry_names_no_record_here() {
    let c = chain();
    let (reg, second) = (c.deploy(), c.deploy());
    let (eh, tx_id) = c.anchored_record(&second);
    assert_eq!(
        c.client.anchored_eh(&reg, &tx_id),
        Err(Error::EventNotFound)
    );
    assert_eq!(c.client.anchored_eh(&second, &tx_id), Ok(eh));
    let receipt = c.client.receipt(&tx_id).unwrap();
    assert_eq!(
        Event::decode(&receipt.logs[0], &reg),
        Err(Error::WrongContract)
    );
}

#[test]
fn a_grant_forged_by_a_stranger_for_a_real_record_is_refused() {
    // The attack: a stranger posts a Trans to a doctor's public protocol key
    // pointing at a record anchored for someone else. He can seal and post
    // anything, but cannot sign as the patient the anchor commits to.
    let c = chain();
    let reg = c.deploy();
    let doctor_b = SecretKey::generate().unwrap();
    let (eh, _, opening) = c.anchored_with_opening(&reg);
    let forged = pass_for(
        &doctor_b.public_key(),
        &c.stranger,
        ("St Mary", 1_700_000_000),
        eh,
        opening,
    );
    c.send(
        &c.stranger,
        &reg,
        &registry::authorise(&Authorisation::create(&forged).unwrap()),
    )
    .unwrap();
    let scanner_b = Scanner::new(doctor_b);
    let last = c.client.block_number().unwrap();
    let found = c.client.scan(&reg, &scanner_b, 0, last, 1000).unwrap();
    assert_eq!(found.len(), 1);
    let opened = scanner_b.open(&found[0].authorisation).unwrap();
    let anchor = c.client.certified_anchor(&reg, &opened.eh()).unwrap();
    assert_eq!(opened.confirm(&anchor).err(), Some(Error::GrantForged));
}

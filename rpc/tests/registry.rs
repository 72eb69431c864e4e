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

use ehrchain::chain::abi::{encode, Token};
use ehrchain::chain::registry::{self, Event};
use ehrchain::grant::{AccessPass, Authorisation, Scanner};
use ehrchain::mask::{MaskKey, RecordContext};
use ehrchain::record::RecordKey;
use ehrchain::{Address, Error, SecretKey};
use ehrchain_rpc::Client;

/// Hardhat's well-known test accounts (mnemonic "test … junk"): funded on the local node only.
const ACCOUNT_KEYS: [&str; 3] = [
    "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
];

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
}

impl Chain {
    /// A fresh registry whose authority is [`Chain::authority`].
    fn deploy(&self) -> Address {
        let mut code = self.code.clone();
        code.extend_from_slice(&encode(&[Token::Address(self.authority.address())]));
        self.client
            .send(&self.authority, None, &code)
            .unwrap()
            .contract_address
            .unwrap()
    }

    fn send(
        &self,
        from: &SecretKey,
        registry: &Address,
        call: &[u8],
    ) -> ehrchain::Result<ehrchain::chain::log::Receipt> {
        self.client.send(from, Some(registry), call)
    }

    /// A record anchored by the patient in `registry`: its `eh` and transaction.
    fn anchored_record(&self, registry: &Address) -> ([u8; 32], [u8; 32]) {
        let (_, eh) =
            ehrchain::record::encrypt(&RecordKey::generate().unwrap(), b"ad", 4096, &[1u8; 10_000])
                .unwrap();
        let anchor = self
            .send(
                &self.patient,
                registry,
                &registry::anchor_record(&eh, &radiology(), 1_700_000_000),
            )
            .unwrap();
        (eh, anchor.transaction_hash)
    }
}

/// The shared chain, one test at a time (a failed test does not poison it).
fn chain() -> MutexGuard<'static, Chain> {
    static CHAIN: OnceLock<Mutex<Chain>> = OnceLock::new();
    CHAIN
        .get_or_init(|| {
            let (node, client) = start_chain();
            let [authority, patient, stranger] =
                ACCOUNT_KEYS.map(|k| SecretKey::from_hex(k).unwrap());
            Mutex::new(Chain {
                _node: node,
                client,
                code: creation_code(),
                authority,
                patient,
                stranger,
            })
        })
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn radiology() -> [u8; 32] {
    registry::record_type("radiology").unwrap()
}

fn pass(hospital: &str, time: u64) -> AccessPass {
    AccessPass {
        context: RecordContext::new(hospital, time).unwrap(),
        mask_key: MaskKey::generate().unwrap(),
    }
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
    let call = registry::register_doctor(7, &Address([0xbb; 20]), &key, 100, 200);
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
    let call = registry::register_doctor(7, &Address([0xbb; 20]), &key, 100, 200);
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
    let call = registry::register_doctor(7, &Address([0xbb; 20]), &key, 100, 200);
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
            status.record_type
        ),
        (true, false, c.patient.address(), radiology())
    );
}

#[test]
fn a_record_is_anchored_once() {
    let c = chain();
    let reg = c.deploy();
    let (eh, _) = c.anchored_record(&reg);
    let again = registry::anchor_record(&eh, &radiology(), 1);
    assert_eq!(
        c.send(&c.patient, &reg, &again).map(|_| ()),
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
    c.send(&c.patient, &reg, &registry::mark_deleted(&eh))
        .unwrap();
    assert!(c.client.record_status(&reg, &eh).unwrap().deleted);
}

#[test]
fn a_doctor_finds_exactly_the_grants_to_his_key_among_others() {
    let c = chain();
    let reg = c.deploy();
    let doctor_b = SecretKey::generate().unwrap();
    let mine = pass("St Mary", 1_700_000_000);
    let senders = [&c.authority, &c.patient, &c.stranger];
    let mut first_block = u64::MAX;
    for i in 0..21usize {
        let auth = if i == 13 {
            Authorisation::create(&doctor_b.public_key(), &mine).unwrap()
        } else {
            let someone = SecretKey::generate().unwrap().public_key();
            Authorisation::create(&someone, &pass("H", i as u64)).unwrap()
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
    assert_eq!(
        opened.mask_key.index(&opened.context),
        mine.mask_key.index(&mine.context)
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
    let auth = Authorisation::create(&someone, &pass("H", 1)).unwrap();
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

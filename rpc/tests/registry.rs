//! The crate's chain support against a real local chain: a Hardhat 2 node
//! started by the test (`node_modules/.bin/hardhat`, installed by
//! scripts/setup.sh), the registry compiled by `node chain/compile.js` and
//! deployed with a locally signed EIP-1559 transaction.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ehrchain::chain::abi::{encode, Token};
use ehrchain::chain::registry::{self, Event};
use ehrchain::grant::{AccessPass, Authorisation, Scanner};
use ehrchain::mask::{MaskKey, RecordContext};
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

fn start_chain() -> (Node, Client) {
    let root = &Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
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
    let child = Command::new(hardhat)
        .args([
            "node",
            "--hostname",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ])
        .current_dir(root)
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

fn deploy(client: &Client, deployer: &SecretKey, authority: &Address) -> Address {
    let root = &Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
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
    let mut code =
        ehrchain::hex::decode("bytecode", artifact["bytecode"].as_str().unwrap()).unwrap();
    code.extend_from_slice(&encode(&[Token::Address(*authority)]));
    client
        .send(deployer, None, &code)
        .unwrap()
        .contract_address
        .unwrap()
}

fn pass(hospital: &str, time: u64) -> AccessPass {
    AccessPass {
        context: RecordContext::new(hospital, time).unwrap(),
        mask_key: MaskKey::generate().unwrap(),
    }
}

#[test]
fn registry_end_to_end_with_every_refusal() {
    let (_node, client) = start_chain();
    assert_eq!(client.chain_id().unwrap(), 31337);
    let keys: Vec<SecretKey> = ACCOUNT_KEYS
        .iter()
        .map(|k| SecretKey::from_hex(k).unwrap())
        .collect();
    let (authority, patient, other) = (&keys[0], &keys[1], &keys[2]);
    let reg = deploy(&client, authority, &authority.address());
    let second = deploy(&client, authority, &authority.address());

    // Certificates: the authority registers, nobody else may; status and revocation.
    let doctor_b = SecretKey::generate().unwrap();
    let call = registry::register_doctor(7, &Address([0xbb; 20]), &doctor_b.public_key(), 100, 200);
    assert_eq!(
        client.send(other, Some(&reg), &call),
        Err(Error::Reverted {
            reason: "NotAuthority()".into()
        })
    );
    client.send(authority, Some(&reg), &call).unwrap();
    let s = client.certificate_status(&reg, 7).unwrap();
    assert!(s.registered() && !s.revoked && s.valid_from == 100 && s.valid_until == 200);
    assert!(!client.certificate_status(&reg, 8).unwrap().registered());
    client
        .send(authority, Some(&reg), &registry::revoke_doctor(7))
        .unwrap();
    assert!(client.certificate_status(&reg, 7).unwrap().revoked);

    // Alg 4: a record is anchored; its eh is read back from tx_id alone.
    let (ciphertext, eh) = ehrchain::record::encrypt(
        &ehrchain::record::RecordKey::from_bytes(&[3u8; 16]).unwrap(),
        b"ad",
        4096,
        &[1u8; 10_000],
    )
    .unwrap();
    assert_eq!(eh, ehrchain::hash::sha256(&ciphertext));
    let ty = registry::record_type("radiology").unwrap();
    let anchor = client
        .send(
            patient,
            Some(&reg),
            &registry::anchor_record(&eh, &ty, 1_700_000_000),
        )
        .unwrap();
    let tx_id = anchor.transaction_hash;
    assert_eq!(client.anchored_eh(&reg, &tx_id).unwrap(), eh);
    let status = client.record_status(&reg, &eh).unwrap();
    assert!(status.anchored && !status.deleted);
    assert_eq!(status.anchored_by, patient.address());
    assert_eq!(
        client.send(patient, Some(&reg), &registry::anchor_record(&eh, &ty, 1)),
        Err(Error::Reverted {
            reason: "AlreadyAnchored(bytes32)".into()
        })
    );
    assert_eq!(
        client.send(other, Some(&reg), &registry::mark_deleted(&eh)),
        Err(Error::Reverted {
            reason: "NotAnchorOwner(bytes32)".into()
        })
    );

    // Alg 5: 20 grants to other doctors and one to B; B finds exactly his, C none of B's.
    let doctor_c = SecretKey::generate().unwrap();
    let mine = pass("St Mary", 1_700_000_000);
    let mut first_block = u64::MAX;
    for i in 0..21usize {
        let auth = if i == 13 {
            Authorisation::create(&doctor_b.public_key(), &mine).unwrap()
        } else {
            Authorisation::create(
                &SecretKey::generate().unwrap().public_key(),
                &pass("H", i as u64),
            )
            .unwrap()
        };
        let r = client
            .send(&keys[i % 3], Some(&reg), &registry::authorise(&auth))
            .unwrap();
        first_block = first_block.min(r.block_number);
        // The authorise receipt carries no anchoring event.
        if i == 0 {
            assert_eq!(
                client.anchored_eh(&reg, &r.transaction_hash),
                Err(Error::EventNotFound)
            );
        }
    }
    let last = client.block_number().unwrap();
    let scanner_b = Scanner::new(doctor_b);
    let found = client.scan(&reg, &scanner_b, first_block, last, 4).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].seq, 13);
    let opened = scanner_b.open(&found[0].authorisation).unwrap();
    assert_eq!(
        opened.mask_key.index(&opened.context),
        mine.mask_key.index(&mine.context)
    );
    assert!(client
        .scan(&reg, &Scanner::new(doctor_c), 0, last, 1000)
        .unwrap()
        .is_empty());

    // Deletion by the anchorer is visible.
    client
        .send(patient, Some(&reg), &registry::mark_deleted(&eh))
        .unwrap();
    assert!(client.record_status(&reg, &eh).unwrap().deleted);

    // Bad input: an unknown transaction, a log of another contract.
    assert_eq!(
        client.anchored_eh(&reg, &[0x42; 32]),
        Err(Error::TransactionNotFound)
    );
    let foreign = client
        .send(
            patient,
            Some(&second),
            &registry::anchor_record(&[9u8; 32], &ty, 5),
        )
        .unwrap();
    assert_eq!(
        client.anchored_eh(&reg, &foreign.transaction_hash),
        Err(Error::EventNotFound)
    );
    assert_eq!(
        Event::decode(&foreign.logs[0], &reg),
        Err(Error::WrongContract)
    );
    assert_eq!(
        client
            .anchored_eh(&second, &foreign.transaction_hash)
            .unwrap(),
        [9u8; 32]
    );
}

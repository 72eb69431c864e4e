//! The registry's custom errors: revert data is `selector(signature) ‖
//! arguments`, and [`revert_reason`] names the error a reverted call hit.

use crate::chain::abi;

/// Every custom error of `contracts/EhrRegistry.sol`, as canonical
/// signatures (a test holds this list against the Solidity source).
pub const ERRORS: [&str; 15] = [
    "NotAuthority()",
    "ZeroAddress()",
    "InvalidProtocolKey()",
    "InvalidValidity()",
    "CertificateExists(uint64)",
    "UnknownCertificate(uint64)",
    "AlreadyRevoked(uint64)",
    "InvalidHash()",
    "NotCertifiedDoctor(uint64)",
    "AlreadyAnchored(bytes32)",
    "NotAnchored(bytes32)",
    "NotAnchorOwner(bytes32)",
    "AlreadyDeleted(bytes32)",
    "InvalidPoint()",
    "InvalidCiphertext(uint256)",
];

/// Names the registry's custom error in revert data (`"AlreadyAnchored(bytes32)"`),
/// or `None` if the data is not one of them.
pub fn revert_reason(data: &[u8]) -> Option<&'static str> {
    let sel = data.get(..4)?;
    ERRORS.iter().copied().find(|s| abi::selector(s) == sel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revert_data_names_the_registry_error() {
        assert_eq!(
            revert_reason(&[0x30, 0xd2, 0x38, 0x13, 0]),
            Some("AlreadyAnchored(bytes32)")
        );
    }

    #[test]
    fn unknown_or_short_revert_data_names_nothing() {
        assert_eq!(revert_reason(&[1, 2, 3, 4]), None);
        assert_eq!(revert_reason(&[0x30, 0xd2, 0x38]), None);
    }
}

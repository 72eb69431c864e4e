// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

/// @title EhrRegistry — the on-chain part of the ehrchain protocol
/// @author ehrchain
/// @notice One contract carries the three public facts of the protocol:
///         (1) the health authority's doctor certificates and their revocations,
///         (2) record anchors `R1 = {T1, commitment, eh}`, made by certified doctors,
///             and their deletion tombstones,
///         (3) authorisation transactions `Trans = (viewTag, R, ST, C1)` (Alg 5, with an
///             ERC-5564-style one-byte view tag).
/// @dev Design rules:
///      - every refusal is a custom error, every state change emits an event;
///      - no function loops over caller-controlled or growing data;
///      - only the doctor of a registered, unrevoked certificate within its
///        validity at the block's time may anchor a record, naming that
///        certificate's serial, so that whoever sees an `eh` first (the
///        hospital server during the upload, a watcher of pending
///        transactions) cannot squat it; a later revocation does not undo the
///        anchor, nor the anchoring doctor's right to mark it deleted;
///      - an anchor stores an opaque commitment to the record type, its
///        doctor and its patient (computed off chain), never the type in clear;
///      - an authorisation names nobody: it stores nothing but a counter, its
///        payload lives only in the `Authorised` event, and no indexed topic
///        other than the sequence number exists, so a doctor finds his
///        authorisations by paging all `Authorised` logs by block range;
///      - every `C1` has the same length (`C1_LENGTH`): the pass inside is
///        padded to 512 bytes, so the size of a grant tells nothing about it;
///      - the view tag is a static `bytes1` (every value is a tag; the ABI
///        decoder refuses a word whose 31 padding bytes are not zero) and is not
///        indexed: a doctor cannot know the tag of his next grant, he reads it
///        from each event and compares it before the expensive `ST` check;
///      - to keep authorisations of one patient unlinkable, they should be sent
///        from a fresh one-time account or through a relayer (docs/PROTOCOL.md §5);
///        the contract therefore accepts them from any sender;
///      - a doctor's protocol key is not kept in storage: it is carried by the
///        `DoctorRegistered` event (topic `serial`), storage keeps only what
///        a certificate check needs;
///      - the authority keeps the hospital directory: each hospital name `H1`
///        (the name records and certificates carry) maps to the URL of that
///        hospital's record server, so a client finds the server of a record
///        from its `H1`, never from a URL a person typed.
contract EhrRegistry {
    // ------------------------------------------------------------------
    // Constants
    // ------------------------------------------------------------------

    /// @notice Length in bytes of a compressed secp256k1 point (prefix 0x02/0x03 and x).
    uint256 private constant COMPRESSED_POINT_LENGTH = 33;

    /// @notice The only accepted length of `C1` in bytes: an eciesjs/eciespy ciphertext
    ///         (default configuration: 65-byte uncompressed ephemeral key, 16-byte
    ///         nonce, 16-byte tag) of an access pass `A_pass` padded to 512 bytes,
    ///         97 + 512 = 609. One size for every grant: its length reveals nothing.
    uint256 public constant C1_LENGTH = 609;

    // ------------------------------------------------------------------
    // Types
    // ------------------------------------------------------------------

    /// @notice Stored state of one doctor certificate.
    /// @dev Packed into two slots; a revocation writes only the second one.
    ///      `doctor` is never the zero address for a registered serial, so it
    ///      doubles as the "registered" flag.
    /// @param doctor The certified doctor's Ethereum account.
    /// @param validFrom Start of validity (Unix seconds).
    /// @param validUntil End of validity (Unix seconds).
    /// @param revokedAt Block timestamp of the revocation, 0 if not revoked.
    /// @param revoked True once the certificate is revoked.
    struct Certificate {
        address doctor;
        uint64 validFrom;
        uint64 validUntil;
        uint64 revokedAt;
        bool revoked;
    }

    /// @notice Stored state of one record anchor.
    /// @dev Three slots: (0) `anchoredBy`, `deletedAt`, `deleted`; (1) `commitment`;
    ///      (2) `serial`, `recordTime`, `anchoredAt`. A deletion writes only slot 0;
    ///      a zero commitment leaves slot 1 unwritten. `anchoredBy` is never the
    ///      zero address for an anchored record, so it doubles as the "anchored" flag.
    /// @param anchoredBy The certified doctor's account that anchored the record.
    /// @param deletedAt Block timestamp of the deletion mark, 0 if not deleted.
    /// @param deleted True once the record is marked deleted.
    /// @param commitment The commitment to the record's type, doctor and patient (opaque).
    /// @param serial Serial of the certificate the anchoring doctor named.
    /// @param recordTime The record's time `T1` (Unix seconds).
    /// @param anchoredAt Block timestamp of the anchoring.
    struct Anchor {
        address anchoredBy;
        uint64 deletedAt;
        bool deleted;
        bytes32 commitment;
        uint64 serial;
        uint64 recordTime;
        uint64 anchoredAt;
    }

    // ------------------------------------------------------------------
    // Storage
    // ------------------------------------------------------------------

    /// @notice The health authority's account: the only one that registers and
    ///         revokes doctor certificates, and the trust anchor of the system.
    address public immutable authority;

    /// @notice Certificates by serial number.
    mapping(uint64 serial => Certificate) private _certificates;

    /// @notice Record anchors by ciphertext hash `eh`.
    mapping(bytes32 eh => Anchor) private _anchors;

    /// @notice Number of authorisations posted so far; the next one gets this
    ///         value as its sequence number.
    uint256 private _authorisationCount;

    /// @notice The hospital directory: record-server URL by `keccak256(hospital name)`.
    mapping(bytes32 hospitalHash => string) private _endpoints;

    /// @notice Domain label of the anchor commitment (docs/PROTOCOL.md §2, §4.1).
    bytes private constant ANCHOR_LABEL = "ehrchain/v1/anchor";

    /// @notice Longest record type `Ty1` in bytes.
    uint256 private constant MAX_RECORD_TYPE_LENGTH = 32;

    /// @notice Longest hospital name (bytes of UTF-8), as in a record context `H1`.
    uint256 public constant MAX_HOSPITAL_LENGTH = 255;

    /// @notice Longest record-server URL (bytes) in the directory.
    uint256 public constant MAX_ENDPOINT_LENGTH = 256;

    // ------------------------------------------------------------------
    // Errors
    // ------------------------------------------------------------------

    /// @notice The caller is not the health authority.
    error NotAuthority();

    /// @notice An address that must be set is the zero address
    ///         (constructor's authority, or a certificate's doctor).
    error ZeroAddress();

    /// @notice The protocol key is not a 33-byte compressed secp256k1 point
    ///         starting with 0x02 or 0x03.
    error InvalidProtocolKey();

    /// @notice The validity period is empty: `validFrom` is not before `validUntil`.
    error InvalidValidity();

    /// @notice A certificate with this serial number is already registered.
    /// @param serial The serial number.
    error CertificateExists(uint64 serial);

    /// @notice No certificate with this serial number is registered.
    /// @param serial The serial number.
    error UnknownCertificate(uint64 serial);

    /// @notice The certificate is already revoked.
    /// @param serial The serial number.
    error AlreadyRevoked(uint64 serial);

    /// @notice The record hash is zero.
    error InvalidHash();

    /// @notice The caller is not the doctor of certificate `serial`, or that certificate
    ///         is unknown, revoked, or not valid at the block's time
    ///         (`validFrom <= block.timestamp < validUntil`).
    /// @param serial The serial number the caller named.
    error NotCertifiedDoctor(uint64 serial);

    /// @notice A record with this hash is already anchored.
    /// @param eh The record's ciphertext hash.
    error AlreadyAnchored(bytes32 eh);

    /// @notice No record with this hash is anchored.
    /// @param eh The record's ciphertext hash.
    error NotAnchored(bytes32 eh);

    /// @notice The caller is neither the account that anchored the record nor the authority.
    /// @param eh The record's ciphertext hash.
    error NotAnchorOwner(bytes32 eh);

    /// @notice The record is already marked deleted.
    /// @param eh The record's ciphertext hash.
    error AlreadyDeleted(bytes32 eh);

    /// @notice `R` or `ST` is not a 33-byte compressed point starting with 0x02 or 0x03.
    error InvalidPoint();

    /// @notice `C1` is not exactly `C1_LENGTH` (609) bytes long.
    /// @param length The length of the refused `C1`.
    error InvalidCiphertext(uint256 length);

    /// @notice The caller's address, salt and type do not open the record's anchor commitment as its patient.
    /// @param eh The record's ciphertext hash.
    error NotRecordPatient(bytes32 eh);

    /// @notice A hospital name is empty or longer than `MAX_HOSPITAL_LENGTH` bytes.
    error InvalidHospital();

    /// @notice A record-server URL is longer than `MAX_ENDPOINT_LENGTH` bytes.
    error InvalidEndpoint();

    // ------------------------------------------------------------------
    // Events
    // ------------------------------------------------------------------

    /// @notice A doctor certificate was registered by the authority.
    /// @param serial The certificate's serial number.
    /// @param doctor The doctor's Ethereum account.
    /// @param protocolKey The doctor's protocol public key `A` (33-byte compressed point).
    /// @param validFrom Start of validity (Unix seconds).
    /// @param validUntil End of validity (Unix seconds).
    event DoctorRegistered(
        uint64 indexed serial, address indexed doctor, bytes protocolKey, uint64 validFrom, uint64 validUntil
    );

    /// @notice A doctor certificate was revoked by the authority.
    /// @param serial The certificate's serial number.
    /// @param revokedAt Block timestamp of the revocation.
    event DoctorRevoked(uint64 indexed serial, uint64 revokedAt);

    /// @notice A record `R1 = {T1, commitment, eh}` was anchored by a certified doctor.
    /// @param eh SHA-256 of the record's ciphertext.
    /// @param anchoredBy The certified doctor's account that sent the anchoring transaction.
    /// @param serial Serial of the certificate under which the record was anchored.
    /// @param commitment The commitment to the record's type, doctor and patient (opaque).
    /// @param recordTime The record's time `T1` (Unix seconds).
    /// @param anchoredAt Block timestamp of the anchoring.
    event RecordAnchored(
        bytes32 indexed eh,
        address indexed anchoredBy,
        uint64 serial,
        bytes32 commitment,
        uint64 recordTime,
        uint64 anchoredAt
    );

    /// @notice A record was marked deleted (the on-chain tombstone).
    /// @param eh SHA-256 of the record's ciphertext.
    /// @param deletedBy The account that marked it (its anchorer or the authority).
    /// @param deletedAt Block timestamp of the deletion mark.
    event RecordDeleted(bytes32 indexed eh, address indexed deletedBy, uint64 deletedAt);

    /// @notice An authorisation `Trans = (viewTag, R, ST, C1)` was posted. Names nobody.
    /// @param seq Sequence number of the authorisation (0, 1, 2, ...).
    /// @param viewTag The view tag, `SHA-256("ehrchain/v1/view-tag" ‖ compressed(r·A_j))[0]`:
    ///        a filter for the target doctor's scan, never a proof.
    /// @param r The patient's one-time point `R = r·G` (33-byte compressed).
    /// @param st The tag `ST = h1(r·A_j)·G` (33-byte compressed).
    /// @param c1 The ECIES ciphertext of the pass `A_pass` for the target doctor.
    event Authorised(uint256 indexed seq, bytes1 viewTag, bytes r, bytes st, bytes c1);

    /// @notice The authority listed (or, with an empty endpoint, delisted) a hospital's record server.
    /// @param hospitalHash `keccak256` of the hospital's name, to filter by hospital.
    /// @param hospital The hospital's name `H1`, as records and certificates carry it.
    /// @param endpoint The base URL of its record server; empty when delisted.
    event HospitalListed(bytes32 indexed hospitalHash, string hospital, string endpoint);

    // ------------------------------------------------------------------
    // Construction
    // ------------------------------------------------------------------

    /// @notice Deploys the registry for one health authority.
    /// @param authority_ The health authority's account; fixed for the registry's life.
    constructor(address authority_) {
        if (authority_ == address(0)) revert ZeroAddress();
        authority = authority_;
    }

    /// @notice Restricts a function to the health authority.
    modifier onlyAuthority() {
        if (msg.sender != authority) revert NotAuthority();
        _;
    }

    // ------------------------------------------------------------------
    // Doctor certificates
    // ------------------------------------------------------------------

    /// @notice Registers a doctor certificate (authority only).
    /// @dev The protocol key is emitted, not stored.
    /// @param serial The certificate's serial number, unique for the registry's life.
    /// @param doctor The doctor's Ethereum account.
    /// @param protocolKey The doctor's protocol public key `A`, 33-byte compressed point.
    /// @param validFrom Start of validity (Unix seconds).
    /// @param validUntil End of validity (Unix seconds), after `validFrom`.
    function registerDoctor(
        uint64 serial,
        address doctor,
        bytes calldata protocolKey,
        uint64 validFrom,
        uint64 validUntil
    ) external onlyAuthority {
        if (doctor == address(0)) revert ZeroAddress();
        if (!_isCompressedPoint(protocolKey)) revert InvalidProtocolKey();
        if (validFrom >= validUntil) revert InvalidValidity();
        Certificate storage cert = _certificates[serial];
        if (cert.doctor != address(0)) revert CertificateExists(serial);
        cert.doctor = doctor;
        cert.validFrom = validFrom;
        cert.validUntil = validUntil;
        emit DoctorRegistered(serial, doctor, protocolKey, validFrom, validUntil);
    }

    /// @notice Revokes a doctor certificate (authority only). Irreversible.
    /// @param serial The certificate's serial number.
    function revokeDoctor(uint64 serial) external onlyAuthority {
        Certificate storage cert = _certificates[serial];
        if (cert.doctor == address(0)) revert UnknownCertificate(serial);
        if (cert.revoked) revert AlreadyRevoked(serial);
        uint64 nowTs = uint64(block.timestamp);
        cert.revoked = true;
        cert.revokedAt = nowTs;
        emit DoctorRevoked(serial, nowTs);
    }

    /// @notice State of a doctor certificate; all zero (doctor = address(0)) for an
    ///         unknown serial, which is how a caller tells "unknown" apart: a
    ///         registered certificate never has the zero address as its doctor.
    /// @dev This view does not judge validity: the off-chain verifier checks, at
    ///      its own time `t`, `validFrom <= t < validUntil` and `!revoked`
    ///      (docs/PROTOCOL.md section 8). `anchorRecord` applies the same rule
    ///      at the block's time.
    /// @param serial The certificate's serial number.
    /// @return doctor The doctor's account, address(0) if the serial is unknown.
    /// @return validFrom Start of validity (Unix seconds).
    /// @return validUntil End of validity (Unix seconds).
    /// @return revoked True if the certificate is revoked.
    /// @return revokedAt Block timestamp of the revocation, 0 if not revoked.
    function certificateStatus(uint64 serial)
        external
        view
        returns (address doctor, uint64 validFrom, uint64 validUntil, bool revoked, uint64 revokedAt)
    {
        Certificate storage cert = _certificates[serial];
        return (cert.doctor, cert.validFrom, cert.validUntil, cert.revoked, cert.revokedAt);
    }

    // ------------------------------------------------------------------
    // Record anchors
    // ------------------------------------------------------------------

    /// @notice Anchors a record `R1 = {T1, commitment, eh}`. Only a certified doctor may
    ///         anchor: the caller must be the doctor of certificate `serial`, which must be
    ///         registered, not revoked, and valid at the block's time.
    /// @dev Checks, in order: `eh` not zero (`InvalidHash`), the certificate
    ///      (`NotCertifiedDoctor`; an unknown serial has doctor 0, and the authority
    ///      as such holds no certificate), `eh` not yet anchored (`AlreadyAnchored`). The transaction's hash
    ///      is the protocol's `tx_id`; a reader recovers `eh` from the `RecordAnchored`
    ///      event in its receipt.
    /// @param eh SHA-256 of the record's ciphertext; not zero, anchored at most once.
    /// @param commitment `SHA-256("ehrchain/v1/anchor" ‖ salt ‖ doctor ‖ patient ‖ u8 len(Ty1) ‖ Ty1)`,
    ///        computed off chain; stored opaque (any value, zero included).
    /// @param recordTime The record's time `T1` (Unix seconds).
    /// @param serial Serial of the caller's own certificate.
    function anchorRecord(bytes32 eh, bytes32 commitment, uint64 recordTime, uint64 serial) external {
        if (eh == bytes32(0)) revert InvalidHash();
        uint64 nowTs = uint64(block.timestamp);
        Certificate storage cert = _certificates[serial];
        if (cert.doctor != msg.sender || cert.revoked || nowTs < cert.validFrom || nowTs >= cert.validUntil) {
            revert NotCertifiedDoctor(serial);
        }
        Anchor storage anchor = _anchors[eh];
        if (anchor.anchoredBy != address(0)) revert AlreadyAnchored(eh);
        anchor.anchoredBy = msg.sender;
        anchor.commitment = commitment;
        anchor.serial = serial;
        anchor.recordTime = recordTime;
        anchor.anchoredAt = nowTs;
        emit RecordAnchored(eh, msg.sender, serial, commitment, recordTime, nowTs);
    }

    /// @notice Marks an anchored record deleted: the on-chain tombstone that replaces
    ///         the paper's impossible "delete the hash from the blockchain".
    /// @dev Only the anchoring account or the authority. The anchoring doctor keeps
    ///      this right after his certificate expires or is revoked: it concerns his
    ///      own earlier records. The anchor itself stays readable.
    /// @param eh SHA-256 of the record's ciphertext.
    function markDeleted(bytes32 eh) external {
        Anchor storage anchor = _anchors[eh];
        address anchoredBy = anchor.anchoredBy;
        if (anchoredBy == address(0)) revert NotAnchored(eh);
        if (msg.sender != anchoredBy && msg.sender != authority) revert NotAnchorOwner(eh);
        if (anchor.deleted) revert AlreadyDeleted(eh);
        uint64 nowTs = uint64(block.timestamp);
        anchor.deleted = true;
        anchor.deletedAt = nowTs;
        emit RecordDeleted(eh, msg.sender, nowTs);
    }

    /// @notice Marks an anchored record deleted at its patient's request: the caller
    ///         proves to be the patient by opening the anchor's commitment with its
    ///         own address as `patient` (docs/PROTOCOL.md §4.1).
    /// @dev The opening becomes public with the call: anyone can then tell that the
    ///      caller was this record's patient and read its type. Checks, in order:
    ///      anchored (`NotAnchored`), the commitment opens for the caller
    ///      (`NotRecordPatient`; a type over 32 bytes never opens), not yet
    ///      deleted (`AlreadyDeleted`).
    /// @param eh SHA-256 of the record's ciphertext.
    /// @param salt The commitment's 32-byte salt (from the handoff).
    /// @param recordType The record type `Ty1` (from the handoff).
    function markDeletedByPatient(bytes32 eh, bytes32 salt, string calldata recordType) external {
        Anchor storage anchor = _anchors[eh];
        address anchoredBy = anchor.anchoredBy;
        if (anchoredBy == address(0)) revert NotAnchored(eh);
        bytes calldata ty = bytes(recordType);
        if (ty.length > MAX_RECORD_TYPE_LENGTH) revert NotRecordPatient(eh);
        bytes32 opened =
            sha256(abi.encodePacked(ANCHOR_LABEL, salt, anchoredBy, msg.sender, uint8(ty.length), ty));
        if (opened != anchor.commitment) revert NotRecordPatient(eh);
        if (anchor.deleted) revert AlreadyDeleted(eh);
        uint64 nowTs = uint64(block.timestamp);
        anchor.deleted = true;
        anchor.deletedAt = nowTs;
        emit RecordDeleted(eh, msg.sender, nowTs);
    }

    /// @notice State of a record anchor; all zero (anchored = false) for an unknown hash.
    /// @param eh SHA-256 of the record's ciphertext.
    /// @return anchored True if the record is anchored (it stays true after deletion).
    /// @return anchoredBy The certified doctor's account that anchored it.
    /// @return serial Serial of the certificate under which it was anchored.
    /// @return anchoredAt Block timestamp of the anchoring.
    /// @return commitment The commitment to the record's type, doctor and patient.
    /// @return recordTime The record's time `T1` (Unix seconds).
    /// @return deleted True if the record is marked deleted.
    /// @return deletedAt Block timestamp of the deletion mark, 0 if not deleted.
    function recordStatus(bytes32 eh)
        external
        view
        returns (
            bool anchored,
            address anchoredBy,
            uint64 serial,
            uint64 anchoredAt,
            bytes32 commitment,
            uint64 recordTime,
            bool deleted,
            uint64 deletedAt
        )
    {
        Anchor storage anchor = _anchors[eh];
        return (
            anchor.anchoredBy != address(0),
            anchor.anchoredBy,
            anchor.serial,
            anchor.anchoredAt,
            anchor.commitment,
            anchor.recordTime,
            anchor.deleted,
            anchor.deletedAt
        );
    }

    // ------------------------------------------------------------------
    // Authorisations
    // ------------------------------------------------------------------

    /// @notice Posts an authorisation `Trans = (viewTag, R, ST, C1)` (Alg 5, step 1). Anyone
    ///         may post; send it from a fresh one-time account or a relayer to stay unlinkable.
    /// @dev Only a counter is stored; the payload is in the `Authorised` event. Checks, in
    ///      order: `viewTag` is canonically encoded (by the ABI decoder: its word's 31 low
    ///      bytes are zero, otherwise the call reverts with empty data; every one of the 256
    ///      values is a valid tag), `r` and `st` (`InvalidPoint`), `c1` (`InvalidCiphertext`).
    /// @param viewTag The view tag `SHA-256("ehrchain/v1/view-tag" ‖ compressed(r·A_j))[0]`.
    /// @param r The one-time point `R = r·G`, 33-byte compressed.
    /// @param st The tag `ST = h1(r·A_j)·G`, 33-byte compressed.
    /// @param c1 ECIES ciphertext of the padded pass, exactly `C1_LENGTH` (609) bytes.
    function authorise(bytes1 viewTag, bytes calldata r, bytes calldata st, bytes calldata c1) external {
        if (!_isCompressedPoint(r) || !_isCompressedPoint(st)) revert InvalidPoint();
        if (c1.length != C1_LENGTH) revert InvalidCiphertext(c1.length);
        uint256 seq = _authorisationCount;
        unchecked {
            _authorisationCount = seq + 1;
        }
        emit Authorised(seq, viewTag, r, st, c1);
    }

    /// @notice Number of authorisations posted so far (the next sequence number).
    /// @return The count.
    function authorisationCount() external view returns (uint256) {
        return _authorisationCount;
    }

    // ------------------------------------------------------------------
    // Hospital directory
    // ------------------------------------------------------------------

    /// @notice Lists a hospital's record server (authority only); an empty
    ///         endpoint delists it. A later call replaces the entry.
    /// @dev The URL's shape is checked by clients (docs/PROTOCOL.md §13.1), only
    ///      its length here.
    /// @param hospital The hospital's name `H1` (1 to 255 bytes of UTF-8).
    /// @param endpoint The base URL of its record server (at most 256 bytes), or empty.
    function listHospital(string calldata hospital, string calldata endpoint) external onlyAuthority {
        uint256 length = bytes(hospital).length;
        if (length == 0 || length > MAX_HOSPITAL_LENGTH) revert InvalidHospital();
        if (bytes(endpoint).length > MAX_ENDPOINT_LENGTH) revert InvalidEndpoint();
        bytes32 hospitalHash = keccak256(bytes(hospital));
        _endpoints[hospitalHash] = endpoint;
        emit HospitalListed(hospitalHash, hospital, endpoint);
    }

    /// @notice The record-server URL the directory lists for a hospital.
    /// @param hospital The hospital's name `H1`.
    /// @return The base URL, empty if the hospital is not listed.
    function hospitalEndpoint(string calldata hospital) external view returns (string memory) {
        return _endpoints[keccak256(bytes(hospital))];
    }

    // ------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------

    /// @notice Whether `p` has the shape of a compressed secp256k1 point.
    /// @dev Checks length 33 and prefix 0x02/0x03; whether x is on the curve is
    ///      checked off chain by whoever uses the point.
    /// @param p The candidate encoding.
    /// @return True if `p` is 33 bytes starting with 0x02 or 0x03.
    function _isCompressedPoint(bytes calldata p) private pure returns (bool) {
        if (p.length != COMPRESSED_POINT_LENGTH) return false;
        bytes1 prefix = p[0];
        return prefix == 0x02 || prefix == 0x03;
    }
}

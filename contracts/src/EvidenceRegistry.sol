// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {RFC9162} from "./RFC9162.sol";

/// @title Evidence registry: per-region checkpoints of notary Merkle logs
/// @notice Each trading region (GB/T 2260 code) has one notary log. The registrar binds a
/// notary account to its region; the notary registers the Ed25519 key that signs its
/// checkpoints and then anchors (tree size, root) pairs whose size strictly grows. One
/// anchor costs the same gas whether it covers one event or a million.
contract EvidenceRegistry is AccessControl {
    /// @notice Role that binds notary accounts to regions.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");
    /// @notice Role held by every bound notary account.
    bytes32 public constant NOTARY_ROLE = keccak256("NOTARY_ROLE");

    /// @notice Hash function of a log, fixed when its key is registered.
    enum HashAlgorithm {
        SHA256,
        SM3
    }

    struct Log {
        address notary;
        uint64 latestSize;
        HashAlgorithm hashAlgorithm;
        bool keyRegistered;
        bytes32 checkpointKey;
        string origin;
    }

    struct Anchor {
        bytes32 root;
        uint64 anchoredAt;
        uint64 blockNumber;
    }

    mapping(uint32 region => Log) private _logs;
    mapping(address account => uint32 region) private _regionOf;
    mapping(uint32 region => mapping(uint64 treeSize => Anchor)) private _anchors;

    /// @notice The code is not a GB/T 2260 province, city or county code.
    error EvidenceRegistryInvalidRegion(uint32 region);
    /// @notice The region already has a notary.
    error EvidenceRegistryRegionTaken(uint32 region, address notary);
    /// @notice The account already serves a region.
    error EvidenceRegistryAccountBound(address account, uint32 region);
    /// @notice The caller is not the notary bound to the region.
    error EvidenceRegistryNotRegionNotary(address account, uint32 region);
    /// @notice The region's checkpoint key was already registered.
    error EvidenceRegistryKeyAlreadyRegistered(uint32 region);
    /// @notice The region has no checkpoint key yet.
    error EvidenceRegistryKeyNotRegistered(uint32 region);
    /// @notice A key must be 32 non-zero bytes and a log needs an origin line.
    error EvidenceRegistryInvalidKey();
    /// @notice Anchored tree sizes must strictly grow.
    error EvidenceRegistryTreeSizeNotGrowing(uint32 region, uint64 latestSize, uint64 treeSize);
    /// @notice Nothing was anchored for this region at this size.
    error EvidenceRegistryUnknownCheckpoint(uint32 region, uint64 treeSize);
    /// @notice On-chain inclusion checks exist only for SHA-256 logs (no SM3 precompile).
    error EvidenceRegistryNotSha256Log(uint32 region);

    /// @notice A notary account was bound to a region.
    event NotaryBound(uint32 indexed region, address indexed notary);
    /// @notice A region's checkpoint-signing key, hash algorithm and origin were registered.
    event CheckpointKeyRegistered(uint32 indexed region, bytes32 checkpointKey, HashAlgorithm hashAlgorithm, string origin);
    /// @notice A checkpoint of a region's log was anchored.
    event CheckpointAnchored(uint32 indexed region, uint64 indexed treeSize, bytes32 root, uint64 anchoredAt);

    /// @param admin account that administers roles and binds notaries
    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(REGISTRAR_ROLE, admin);
    }

    /// @notice Bind `account` as the one notary of `region`.
    /// @param account the notary's chain account
    /// @param region GB/T 2260 code, e.g. 370000 (Shandong) or 370100 (Jinan)
    function bindNotary(address account, uint32 region) external onlyRole(REGISTRAR_ROLE) {
        if (region < 110000 || region > 829999) revert EvidenceRegistryInvalidRegion(region);
        Log storage log = _logs[region];
        if (log.notary != address(0)) revert EvidenceRegistryRegionTaken(region, log.notary);
        if (_regionOf[account] != 0) revert EvidenceRegistryAccountBound(account, _regionOf[account]);
        log.notary = account;
        _regionOf[account] = region;
        _grantRole(NOTARY_ROLE, account);
        emit NotaryBound(region, account);
    }

    /// @notice Register the Ed25519 public key that signs the caller's checkpoints, once.
    /// @param checkpointKey raw 32-byte Ed25519 public key
    /// @param hashAlgorithm the log's Merkle hash, fixed for its lifetime
    /// @param origin the checkpoint origin line (C2SP tlog-checkpoint) of the log
    function registerCheckpointKey(bytes32 checkpointKey, HashAlgorithm hashAlgorithm, string calldata origin)
        external
        onlyRole(NOTARY_ROLE)
    {
        uint32 region = _regionOf[msg.sender];
        Log storage log = _logs[region];
        if (log.keyRegistered) revert EvidenceRegistryKeyAlreadyRegistered(region);
        if (checkpointKey == bytes32(0) || bytes(origin).length == 0 || bytes(origin).length > 255) {
            revert EvidenceRegistryInvalidKey();
        }
        log.checkpointKey = checkpointKey;
        log.hashAlgorithm = hashAlgorithm;
        log.origin = origin;
        log.keyRegistered = true;
        emit CheckpointKeyRegistered(region, checkpointKey, hashAlgorithm, origin);
    }

    /// @notice Anchor the caller's log at `treeSize` with Merkle root `root`.
    /// @dev Constant gas: two storage slots per anchor, whatever the batch size.
    function anchor(uint32 region, uint64 treeSize, bytes32 root) external {
        Log storage log = _logs[region];
        if (log.notary != msg.sender || msg.sender == address(0)) {
            revert EvidenceRegistryNotRegionNotary(msg.sender, region);
        }
        if (!log.keyRegistered) revert EvidenceRegistryKeyNotRegistered(region);
        if (treeSize <= log.latestSize) revert EvidenceRegistryTreeSizeNotGrowing(region, log.latestSize, treeSize);
        log.latestSize = treeSize;
        _anchors[region][treeSize] = Anchor(root, uint64(block.timestamp), uint64(block.number));
        emit CheckpointAnchored(region, treeSize, root, uint64(block.timestamp));
    }

    /// @notice The notary, key, hash algorithm, origin and latest anchored size of a region's log.
    function logOf(uint32 region)
        external
        view
        returns (
            address notary,
            bytes32 checkpointKey,
            HashAlgorithm hashAlgorithm,
            string memory origin,
            uint64 latestSize
        )
    {
        Log storage log = _logs[region];
        return (log.notary, log.checkpointKey, log.hashAlgorithm, log.origin, log.latestSize);
    }

    /// @notice The region an account is bound to (0 when none).
    function regionOf(address account) external view returns (uint32) {
        return _regionOf[account];
    }

    /// @notice The root anchored for `region` at `treeSize`, with block time and number.
    function checkpointAt(uint32 region, uint64 treeSize)
        public
        view
        returns (bytes32 root, uint64 anchoredAt, uint64 blockNumber)
    {
        Anchor storage a = _anchors[region][treeSize];
        if (a.anchoredAt == 0) revert EvidenceRegistryUnknownCheckpoint(region, treeSize);
        return (a.root, a.anchoredAt, a.blockNumber);
    }

    /// @notice The latest anchored checkpoint of a region.
    function latestCheckpoint(uint32 region)
        external
        view
        returns (uint64 treeSize, bytes32 root, uint64 anchoredAt, uint64 blockNumber)
    {
        treeSize = _logs[region].latestSize;
        (root, anchoredAt, blockNumber) = checkpointAt(region, treeSize);
    }

    /// @notice Whether `leafHash` sits at `index` in the region's SHA-256 log anchored at `treeSize`.
    /// @param proof RFC 9162 inclusion path, bottom-up
    function verifyInclusion(uint32 region, uint64 treeSize, uint64 index, bytes32 leafHash, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        if (_logs[region].hashAlgorithm != HashAlgorithm.SHA256) revert EvidenceRegistryNotSha256Log(region);
        (bytes32 root,,) = checkpointAt(region, treeSize);
        (bytes32 computed, bool ok) = RFC9162.rootFromInclusionProof(index, treeSize, leafHash, proof);
        return ok && computed == root;
    }
}

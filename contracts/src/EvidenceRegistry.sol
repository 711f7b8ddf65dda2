// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {RFC9162} from "./RFC9162.sol";

/// @title Evidence registry: per-region checkpoints of notary Merkle logs
/// @notice Each trading region (GB/T 2260 code) has one notary log. The registrar binds a
/// notary account to its region; the notary registers the Ed25519 key that signs its
/// checkpoints and then anchors (tree size, root) pairs whose size strictly grows, each with
/// an RFC 9162 consistency proof from the last anchored checkpoint: for SHA-256 logs the chain
/// itself refuses a root that does not extend the anchored history, so a forked log can never
/// be anchored. SM3 logs: the EVM has no SM3 precompile and SM3 in EVM code would cost far
/// more than the anchor itself, so the proof is carried in the transaction's calldata but not
/// checked here; relayers and mirrors check it off chain (as they check every SM3 root).
/// The checkpoint key can be rotated from a tree size on (older checkpoints keep verifying
/// under the key of their size: `checkpointKeyAt`), and the registrar can hand a region to a
/// new notary account in two steps (proposed by the registrar, accepted by the new account).
contract EvidenceRegistry is AccessControl {
    /// @notice Role that binds notary accounts to regions.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");
    /// @notice Role held by every bound notary account; revoking it stops the account anchoring.
    bytes32 public constant NOTARY_ROLE = keccak256("NOTARY_ROLE");
    /// @notice Largest tree size a log may anchor: 2^40 (about 1.1 * 10^12 events).
    /// @dev Sizes must strictly grow, so an unbounded size lets one wrong anchor (2^64 - 1, a
    /// -1 cast to uint64) freeze a region for good. 2^40 is 10,000 years of a province's
    /// trading events at 10^8 a year and over a year of the notary's peak ingest rate nonstop;
    /// it keeps every size exact in JavaScript numbers (2^53, the witness page) and bounds
    /// proofs to 40 inclusion and about 80 consistency hashes, hence the gas of one anchor.
    uint64 public constant MAX_TREE_SIZE = 2 ** 40;

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

    /// @dev A checkpoint key and the first tree size it signs; ordered by `fromSize`.
    struct KeyPeriod {
        bytes32 key;
        uint64 fromSize;
    }

    mapping(uint32 region => Log) private _logs;
    mapping(address account => uint32 region) private _regionOf;
    mapping(uint32 region => mapping(uint64 treeSize => Anchor)) private _anchors;
    mapping(uint32 region => KeyPeriod[]) private _keys;
    mapping(uint32 region => address account) private _proposedNotary;
    mapping(uint32 region => RuleContracts[]) private _rules;

    /// @notice The rule contracts whose logs are a region's rule outcomes (TenderRules, ExpertDraw).
    struct RuleContracts {
        address tender;
        address draw;
    }

    /// @notice Bindings of rule contracts a region may have (an upgrade adds one; none is removed).
    uint256 public constant MAX_RULE_BINDINGS = 16;

    /// @notice The code is not a GB/T 2260 province, city or county code.
    error EvidenceRegistryInvalidRegion(uint32 region);
    /// @notice The region already has a notary.
    error EvidenceRegistryRegionTaken(uint32 region, address notary);
    /// @notice The region has no notary yet (bind one with bindNotary).
    error EvidenceRegistryRegionUnbound(uint32 region);
    /// @notice The account already serves a region.
    error EvidenceRegistryAccountBound(address account, uint32 region);
    /// @notice The caller is not the notary bound to the region.
    error EvidenceRegistryNotRegionNotary(address account, uint32 region);
    /// @notice The caller is not the account the registrar proposed for the region.
    error EvidenceRegistryNotProposedNotary(address account, uint32 region, address proposed);
    /// @notice The region's checkpoint key was already registered.
    error EvidenceRegistryKeyAlreadyRegistered(uint32 region);
    /// @notice The region has no checkpoint key yet.
    error EvidenceRegistryKeyNotRegistered(uint32 region);
    /// @notice A key must be 32 non-zero bytes and a log needs an origin line.
    error EvidenceRegistryInvalidKey();
    /// @notice A new key must differ from the current one and start above every anchored size
    /// and every earlier key's start (`earliest` is the smallest size allowed).
    error EvidenceRegistryInvalidKeyRotation(uint32 region, uint64 fromSize, uint64 earliest);
    /// @notice Anchored tree sizes must strictly grow.
    error EvidenceRegistryTreeSizeNotGrowing(uint32 region, uint64 latestSize, uint64 treeSize);
    /// @notice Tree sizes are bounded by MAX_TREE_SIZE.
    error EvidenceRegistryTreeSizeTooLarge(uint64 treeSize, uint64 maxTreeSize);
    /// @notice The proof does not show (latestSize, latestRoot) is a prefix of (treeSize, root):
    /// a forked or rewritten log. From the empty log (latestSize 0) the proof must be empty.
    error EvidenceRegistryInconsistentCheckpoint(
        uint32 region, uint64 latestSize, bytes32 latestRoot, uint64 treeSize, bytes32 root
    );
    /// @notice Nothing was anchored for this region at this size.
    error EvidenceRegistryUnknownCheckpoint(uint32 region, uint64 treeSize);
    /// @notice On-chain inclusion checks exist only for SHA-256 logs (no SM3 precompile).
    error EvidenceRegistryNotSha256Log(uint32 region);
    /// @notice A rule contract address holds no code.
    error EvidenceRegistryNotAContract(address account);
    /// @notice The region has `MAX_RULE_BINDINGS` bindings of rule contracts already.
    error EvidenceRegistryTooManyRuleBindings(uint32 region);

    /// @notice A notary account was bound to a region.
    event NotaryBound(uint32 indexed region, address indexed notary);
    /// @notice The registrar named the rule contracts of a region: witnesses count rule outcomes only
    /// from the logs of a region's bound contracts (a copy of the same code elsewhere counts for nothing).
    event RulesBound(uint32 indexed region, address tender, address draw);
    /// @notice The registrar proposed `proposed` as the region's new notary (zero: withdrawn).
    event NotaryRebindProposed(uint32 indexed region, address indexed current, address indexed proposed);
    /// @notice The proposed account accepted: it is the region's notary, `previous` no longer.
    event NotaryRebound(uint32 indexed region, address indexed previous, address indexed notary);
    /// @notice A region's checkpoint-signing key, hash algorithm and origin were registered.
    event CheckpointKeyRegistered(uint32 indexed region, bytes32 checkpointKey, HashAlgorithm hashAlgorithm, string origin);
    /// @notice A region's checkpoints from tree size `fromSize` on are signed by `checkpointKey`.
    event CheckpointKeyRotated(uint32 indexed region, bytes32 checkpointKey, uint64 fromSize);
    /// @notice A checkpoint of a region's log was anchored.
    event CheckpointAnchored(uint32 indexed region, uint64 indexed treeSize, bytes32 root, uint64 anchoredAt);

    /// @param admin account that administers roles and binds notaries
    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(REGISTRAR_ROLE, admin);
    }

    // --- regions and notaries ---------------------------------------------------------

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

    /// @notice Name the rule contracts of `region`. Earlier bindings stay: sections opened under them
    /// keep their evidence. Only the registrar (not the region's notary) binds rules.
    function bindRules(uint32 region, address tender, address draw) external onlyRole(REGISTRAR_ROLE) {
        if (region < 110000 || region > 829999) revert EvidenceRegistryInvalidRegion(region);
        if (tender.code.length == 0) revert EvidenceRegistryNotAContract(tender);
        if (draw.code.length == 0) revert EvidenceRegistryNotAContract(draw);
        if (_rules[region].length >= MAX_RULE_BINDINGS) revert EvidenceRegistryTooManyRuleBindings(region);
        _rules[region].push(RuleContracts(tender, draw));
        emit RulesBound(region, tender, draw);
    }

    /// @notice Step one of handing `region` to a new notary account: the registrar proposes it.
    /// @dev The log (keys, anchors, history) stays with the region; only the account changes.
    /// @param account the new notary account, not bound to any region; zero withdraws a proposal
    function proposeRebind(uint32 region, address account) external onlyRole(REGISTRAR_ROLE) {
        address current = _logs[region].notary;
        if (current == address(0)) revert EvidenceRegistryRegionUnbound(region);
        if (_regionOf[account] != 0) revert EvidenceRegistryAccountBound(account, _regionOf[account]);
        _proposedNotary[region] = account;
        emit NotaryRebindProposed(region, current, account);
    }

    /// @notice Step two: the proposed account takes `region`; the previous account loses the
    /// region and NOTARY_ROLE.
    function acceptRebind(uint32 region) external {
        address proposed = _proposedNotary[region];
        if (proposed == address(0) || proposed != msg.sender) {
            revert EvidenceRegistryNotProposedNotary(msg.sender, region, proposed);
        }
        if (_regionOf[msg.sender] != 0) revert EvidenceRegistryAccountBound(msg.sender, _regionOf[msg.sender]);
        Log storage log = _logs[region];
        address previous = log.notary;
        delete _proposedNotary[region];
        delete _regionOf[previous];
        log.notary = msg.sender;
        _regionOf[msg.sender] = region;
        _revokeRole(NOTARY_ROLE, previous);
        _grantRole(NOTARY_ROLE, msg.sender);
        emit NotaryRebound(region, previous, msg.sender);
    }

    // --- checkpoint keys --------------------------------------------------------------

    /// @notice Register the Ed25519 public key that signs the caller's checkpoints, once.
    /// @param checkpointKey raw 32-byte Ed25519 public key
    /// @param hashAlgorithm the log's Merkle hash, fixed for its lifetime
    /// @param origin the checkpoint origin line (C2SP tlog-checkpoint) of the log
    function registerCheckpointKey(bytes32 checkpointKey, HashAlgorithm hashAlgorithm, string calldata origin)
        external
        onlyRole(NOTARY_ROLE)
    {
        uint32 region = _ownRegion();
        Log storage log = _logs[region];
        if (log.keyRegistered) revert EvidenceRegistryKeyAlreadyRegistered(region);
        if (checkpointKey == bytes32(0) || bytes(origin).length == 0 || bytes(origin).length > 255) {
            revert EvidenceRegistryInvalidKey();
        }
        log.checkpointKey = checkpointKey;
        log.hashAlgorithm = hashAlgorithm;
        log.origin = origin;
        log.keyRegistered = true;
        _keys[region].push(KeyPeriod(checkpointKey, 0));
        emit CheckpointKeyRegistered(region, checkpointKey, hashAlgorithm, origin);
    }

    /// @notice Sign the caller's checkpoints of size `fromSize` and above with a new key. Anchored
    /// checkpoints keep their key, so receipts issued before still verify.
    /// @dev The notary must not anchor a size >= `fromSize` signed by the old key: verifiers
    /// choose the key by size (`checkpointKeyAt`) and would refuse it.
    /// @param checkpointKey raw 32-byte Ed25519 public key, not the current one
    /// @param fromSize first tree size the key signs: above the latest anchored size and above
    /// the previous key's first size, at most MAX_TREE_SIZE
    function rotateCheckpointKey(bytes32 checkpointKey, uint64 fromSize) external onlyRole(NOTARY_ROLE) {
        uint32 region = _ownRegion();
        Log storage log = _logs[region];
        if (!log.keyRegistered) revert EvidenceRegistryKeyNotRegistered(region);
        if (checkpointKey == bytes32(0) || checkpointKey == log.checkpointKey) revert EvidenceRegistryInvalidKey();
        KeyPeriod[] storage keys = _keys[region];
        uint64 earliest = log.latestSize;
        uint64 lastStart = keys[keys.length - 1].fromSize;
        if (lastStart > earliest) earliest = lastStart;
        ++earliest;
        if (fromSize < earliest || fromSize > MAX_TREE_SIZE) {
            revert EvidenceRegistryInvalidKeyRotation(region, fromSize, earliest);
        }
        log.checkpointKey = checkpointKey;
        keys.push(KeyPeriod(checkpointKey, fromSize));
        emit CheckpointKeyRotated(region, checkpointKey, fromSize);
    }

    // --- anchoring --------------------------------------------------------------------

    /// @notice Anchor the caller's log at `treeSize` with Merkle root `root`.
    /// @dev Gas grows with the proof only (log2 of the size, bounded by MAX_TREE_SIZE): two
    /// storage slots per anchor whatever the batch size, plus two SHA-256 per proof hash.
    /// @param consistencyProof RFC 9162 consistency proof from the latest anchored checkpoint to
    /// (`treeSize`, `root`); empty for a region's first anchor. Checked for SHA-256 logs only.
    function anchor(uint32 region, uint64 treeSize, bytes32 root, bytes32[] calldata consistencyProof)
        external
        onlyRole(NOTARY_ROLE)
    {
        Log storage log = _logs[region];
        if (log.notary != msg.sender) revert EvidenceRegistryNotRegionNotary(msg.sender, region);
        if (!log.keyRegistered) revert EvidenceRegistryKeyNotRegistered(region);
        uint64 latest = log.latestSize;
        if (treeSize <= latest) revert EvidenceRegistryTreeSizeNotGrowing(region, latest, treeSize);
        if (treeSize > MAX_TREE_SIZE) revert EvidenceRegistryTreeSizeTooLarge(treeSize, MAX_TREE_SIZE);
        if (log.hashAlgorithm == HashAlgorithm.SHA256) {
            bytes32 latestRoot = _anchors[region][latest].root;
            bool consistent = latest == 0
                ? consistencyProof.length == 0
                : RFC9162.verifyConsistency(latest, treeSize, latestRoot, root, consistencyProof);
            if (!consistent) {
                revert EvidenceRegistryInconsistentCheckpoint(region, latest, latestRoot, treeSize, root);
            }
        }
        log.latestSize = treeSize;
        _anchors[region][treeSize] = Anchor(root, uint64(block.timestamp), uint64(block.number));
        emit CheckpointAnchored(region, treeSize, root, uint64(block.timestamp));
    }

    // --- reads ------------------------------------------------------------------------

    /// @notice The notary, newest key, hash algorithm, origin and latest anchored size of a
    /// region's log. Verifiers choose the key of a checkpoint by its size: `checkpointKeyAt`.
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

    /// @notice The key that signs the region's checkpoint of size `treeSize`.
    function checkpointKeyAt(uint32 region, uint64 treeSize) external view returns (bytes32) {
        KeyPeriod[] storage keys = _keys[region];
        if (keys.length == 0) revert EvidenceRegistryKeyNotRegistered(region);
        // The last period starting at or below treeSize (the first starts at 0): binary search.
        uint256 low = 0;
        uint256 high = keys.length;
        while (high - low > 1) {
            uint256 mid = (low + high) / 2;
            if (keys[mid].fromSize <= treeSize) low = mid;
            else high = mid;
        }
        return keys[low].key;
    }

    /// @notice Every binding of rule contracts of `region`, oldest first.
    function rulesOf(uint32 region) external view returns (RuleContracts[] memory) {
        return _rules[region];
    }

    /// @notice The account the registrar proposed as the region's next notary (zero when none).
    function proposedNotaryOf(uint32 region) external view returns (address) {
        return _proposedNotary[region];
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

    /// @dev The region the caller is bound to; reverts when none.
    function _ownRegion() private view returns (uint32 region) {
        region = _regionOf[msg.sender];
        if (region == 0) revert EvidenceRegistryNotRegionNotary(msg.sender, 0);
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

/// @title Yellow River alliance relay (黄河链跨链互认): other provinces' checkpoints on this chain
/// @notice Alliance members (one relayer key per member province) check each new checkpoint of
/// another province's notary log (its signature against the key registered on the source
/// chain, its consistency with the last one they accepted) and sign an EIP-712 attestation of
/// (source chain id, registry, region, tree size, root, their member epoch). Anyone may submit
/// a member's signed attestation. Once `threshold` distinct members attested the same root for
/// a size above the log's latest accepted size, the checkpoint is accepted: a verifier connected
/// only to this chain checks a foreign receipt's inclusion proof against it. Two different roots
/// attested for the same log and size are recorded as an equivocation, with both signatures,
/// at most once per (log, size, member): a split view, detected on chain (each root still counts
/// its own attestations, so one lying member cannot block the honest root). The alliance admin
/// governs the member set and the threshold. A member's epoch is set each time it is added:
/// signatures and attestations of an earlier membership never count again.
contract AllianceRelay is AccessControl, EIP712 {
    /// @notice EIP-712 type a member signs.
    bytes32 public constant CHECKPOINT_TYPEHASH = keccak256(
        "Checkpoint(uint256 sourceChainId,address registry,uint32 region,uint64 treeSize,bytes32 root,uint64 memberEpoch)"
    );
    /// @notice Largest member set.
    uint32 public constant MAX_MEMBERS = 32;
    /// @notice Most equivocations one `equivocationsOf` call returns (read in pages).
    uint256 public constant MAX_PAGE = 50;

    struct Checkpoint {
        uint256 sourceChainId;
        address registry;
        uint32 region;
        uint64 treeSize;
        bytes32 root;
        uint64 memberEpoch;
    }

    struct Attestation {
        address member;
        uint64 memberEpoch;
        bytes32 root;
        bytes signature;
    }

    struct Equivocation {
        uint64 treeSize;
        Attestation first;
        Attestation second;
    }

    /// @dev One member's attestation of one (log, size, root), with the epoch it was made in.
    struct Attester {
        address member;
        uint64 epoch;
    }

    mapping(address account => uint64 epoch) private _epochOf; // 0: not a member
    address[] private _memberList;
    uint64 private _lastEpoch;
    /// @notice How many distinct current members must attest a checkpoint.
    uint32 public threshold;

    mapping(bytes32 logId => uint64) private _latestSize;
    mapping(bytes32 logId => mapping(uint64 treeSize => bytes32 root)) private _accepted;
    mapping(bytes32 logId => mapping(uint64 treeSize => Attestation)) private _firstAttestation;
    mapping(bytes32 attestationKey => Attester[]) private _attesters;
    mapping(bytes32 attestationKey => mapping(address member => uint64 epoch)) private _attestedIn;
    mapping(bytes32 logId => Equivocation[]) private _equivocations;
    mapping(bytes32 logId => mapping(uint64 treeSize => mapping(address member => bool))) private _equivocated;

    /// @notice Members must be distinct non-zero accounts, at most 32; 1 <= threshold <= members.
    error AllianceRelayInvalidMembers();
    /// @notice The signature is not a current member's.
    error AllianceRelayNotMember(address signer);
    /// @notice The signature names another epoch than the member's current one (a membership
    /// that ended: the member was removed since, and maybe added again).
    error AllianceRelayWrongEpoch(address member, uint64 signedEpoch, uint64 currentEpoch);
    /// @notice This member attested this root for this size already (in its current epoch).
    error AllianceRelayAlreadyAttested(address member);
    /// @notice The size is not above the log's latest accepted size (and agrees with what was accepted).
    error AllianceRelayStale(uint64 treeSize, uint64 latestSize);
    /// @notice Size zero or root zero.
    error AllianceRelayInvalidCheckpoint();
    /// @notice Fewer current members attested the checkpoint than the threshold.
    error AllianceRelayBelowThreshold(uint256 attesters, uint32 threshold);

    /// @notice The member set or the threshold changed.
    event MembersChanged(address[] members, uint32 threshold);
    /// @notice `member` joined (or joined again) in epoch `epoch`.
    event MemberAdded(address indexed member, uint64 epoch);
    /// @notice A member attested a checkpoint.
    event Attested(bytes32 indexed logId, uint64 indexed treeSize, bytes32 root, address indexed member);
    /// @notice A checkpoint reached the threshold and is accepted.
    event CheckpointAccepted(
        bytes32 indexed logId, uint256 sourceChainId, address registry, uint32 region, uint64 treeSize, bytes32 root
    );
    /// @notice Two different roots were attested for one log and size: a split view.
    event EquivocationDetected(
        bytes32 indexed logId, uint64 treeSize, bytes32 firstRoot, address firstMember, bytes32 secondRoot, address secondMember
    );

    /// @param admin the alliance admin: governs members and threshold
    /// @param members the initial members' attestation keys
    /// @param threshold_ how many distinct members must attest a checkpoint
    constructor(address admin, address[] memory members, uint32 threshold_) EIP712("LianzhengAllianceRelay", "1") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setMembers(members, threshold_);
    }

    /// @notice The id of a foreign log: source chain, its registry, the region.
    function logIdOf(uint256 sourceChainId, address registry, uint32 region) public pure returns (bytes32) {
        return keccak256(abi.encode(sourceChainId, registry, region));
    }

    /// @notice Replace the member set and threshold (alliance admin only). A member that stays
    /// keeps its epoch; one that joins, or joins again, gets a new one.
    function setMembers(address[] calldata members, uint32 threshold_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setMembers(members, threshold_);
    }

    function _setMembers(address[] memory members, uint32 threshold_) private {
        if (members.length == 0 || members.length > MAX_MEMBERS || threshold_ == 0 || threshold_ > members.length) {
            revert AllianceRelayInvalidMembers();
        }
        address[] memory previous = _memberList;
        for (uint256 i = 0; i < members.length; ++i) {
            if (members[i] == address(0)) revert AllianceRelayInvalidMembers();
            for (uint256 j = 0; j < i; ++j) {
                if (members[j] == members[i]) revert AllianceRelayInvalidMembers();
            }
        }
        for (uint256 i = 0; i < previous.length; ++i) {
            if (!_contains(members, previous[i])) delete _epochOf[previous[i]];
        }
        _memberList = members;
        threshold = threshold_;
        emit MembersChanged(members, threshold_);
        for (uint256 i = 0; i < members.length; ++i) {
            if (_epochOf[members[i]] == 0) {
                uint64 epoch = ++_lastEpoch;
                _epochOf[members[i]] = epoch;
                emit MemberAdded(members[i], epoch);
            }
        }
    }

    function _contains(address[] memory list, address account) private pure returns (bool) {
        for (uint256 i = 0; i < list.length; ++i) {
            if (list[i] == account) return true;
        }
        return false;
    }

    /// @notice Submit a member's signed attestation of a foreign checkpoint (anyone may submit).
    /// @return accepted whether the checkpoint is accepted after this attestation
    function attest(Checkpoint calldata c, bytes calldata signature) external returns (bool accepted) {
        if (c.treeSize == 0 || c.root == bytes32(0)) revert AllianceRelayInvalidCheckpoint();
        address signer = _signer(c, signature);
        bytes32 logId = logIdOf(c.sourceChainId, c.registry, c.region);
        if (_equivocates(logId, c, signer, signature) && _accepted[logId][c.treeSize] != bytes32(0)) {
            return false; // recorded (once per member); the accepted root stands
        }
        uint64 latest = _latestSize[logId];
        if (c.treeSize <= latest) revert AllianceRelayStale(c.treeSize, latest);
        return _count(logId, c, signer, signature);
    }

    /// @notice Accept a pending checkpoint whose attestations now reach the threshold under the
    /// current members and threshold (after the threshold was lowered, say). Anyone may call.
    /// @return accepted always true; reverts with AllianceRelayBelowThreshold otherwise
    function confirm(uint256 sourceChainId, address registry, uint32 region, uint64 treeSize, bytes32 root)
        external
        returns (bool accepted)
    {
        if (treeSize == 0 || root == bytes32(0)) revert AllianceRelayInvalidCheckpoint();
        bytes32 logId = logIdOf(sourceChainId, registry, region);
        uint64 latest = _latestSize[logId];
        if (treeSize <= latest) revert AllianceRelayStale(treeSize, latest);
        uint256 current = _counting(keccak256(abi.encode(logId, treeSize, root)));
        if (current < threshold) revert AllianceRelayBelowThreshold(current, threshold);
        _accept(logId, sourceChainId, registry, region, treeSize, root);
        return true;
    }

    function _signer(Checkpoint calldata c, bytes calldata signature) private view returns (address signer) {
        bytes32 digest = _hashTypedDataV4(
            keccak256(
                abi.encode(CHECKPOINT_TYPEHASH, c.sourceChainId, c.registry, c.region, c.treeSize, c.root, c.memberEpoch)
            )
        );
        ECDSA.RecoverError err;
        (signer, err,) = ECDSA.tryRecover(digest, signature);
        uint64 epoch = _epochOf[signer];
        if (err != ECDSA.RecoverError.NoError || epoch == 0) revert AllianceRelayNotMember(signer);
        if (c.memberEpoch != epoch) revert AllianceRelayWrongEpoch(signer, c.memberEpoch, epoch);
    }

    /// @dev Records an equivocation when another root was attested first for this size, at most
    /// once per member and size: a replay stores nothing.
    function _equivocates(bytes32 logId, Checkpoint calldata c, address signer, bytes calldata signature)
        private
        returns (bool)
    {
        Attestation storage first = _firstAttestation[logId][c.treeSize];
        if (first.member == address(0) || first.root == c.root) return false;
        if (_equivocated[logId][c.treeSize][signer]) return true;
        _equivocated[logId][c.treeSize][signer] = true;
        _equivocations[logId].push(
            Equivocation(c.treeSize, first, Attestation(signer, c.memberEpoch, c.root, signature))
        );
        emit EquivocationDetected(logId, c.treeSize, first.root, first.member, c.root, signer);
        return true;
    }

    function _count(bytes32 logId, Checkpoint calldata c, address signer, bytes calldata signature)
        private
        returns (bool)
    {
        bytes32 key = keccak256(abi.encode(logId, c.treeSize, c.root));
        if (_attestedIn[key][signer] == c.memberEpoch) revert AllianceRelayAlreadyAttested(signer);
        Attestation storage first = _firstAttestation[logId][c.treeSize];
        if (first.member == address(0)) {
            first.member = signer;
            first.memberEpoch = c.memberEpoch;
            first.root = c.root;
            first.signature = signature;
        }
        _attestedIn[key][signer] = c.memberEpoch;
        _attesters[key].push(Attester(signer, c.memberEpoch));
        emit Attested(logId, c.treeSize, c.root, signer);
        if (_counting(key) < threshold) return false;
        _accept(logId, c.sourceChainId, c.registry, c.region, c.treeSize, c.root);
        return true;
    }

    /// @dev Attestations that count now: by a current member, in its current epoch.
    function _counting(bytes32 key) private view returns (uint256 current) {
        Attester[] storage attesters = _attesters[key];
        for (uint256 i = 0; i < attesters.length; ++i) {
            if (_epochOf[attesters[i].member] == attesters[i].epoch) ++current;
        }
    }

    function _accept(bytes32 logId, uint256 sourceChainId, address registry, uint32 region, uint64 treeSize, bytes32 root)
        private
    {
        _latestSize[logId] = treeSize;
        _accepted[logId][treeSize] = root;
        emit CheckpointAccepted(logId, sourceChainId, registry, region, treeSize, root);
    }

    // --- reads for verifiers ----------------------------------------------------------

    /// @notice The accepted root of a foreign log at `treeSize` (zero when not accepted).
    function acceptedRoot(uint256 sourceChainId, address registry, uint32 region, uint64 treeSize)
        external
        view
        returns (bytes32)
    {
        return _accepted[logIdOf(sourceChainId, registry, region)][treeSize];
    }

    /// @notice The latest accepted size of a foreign log and its root.
    function latestAccepted(uint256 sourceChainId, address registry, uint32 region)
        external
        view
        returns (uint64 treeSize, bytes32 root)
    {
        bytes32 logId = logIdOf(sourceChainId, registry, region);
        treeSize = _latestSize[logId];
        root = _accepted[logId][treeSize];
    }

    /// @notice The members whose attestation of `root` for this log and size counts now (current
    /// members, in their current epoch), in the order they attested.
    function attestersOf(uint256 sourceChainId, address registry, uint32 region, uint64 treeSize, bytes32 root)
        external
        view
        returns (address[] memory counted)
    {
        Attester[] storage attesters =
            _attesters[keccak256(abi.encode(logIdOf(sourceChainId, registry, region), treeSize, root))];
        counted = new address[](attesters.length);
        uint256 n = 0;
        for (uint256 i = 0; i < attesters.length; ++i) {
            if (_epochOf[attesters[i].member] == attesters[i].epoch) counted[n++] = attesters[i].member;
        }
        assembly ("memory-safe") {
            mstore(counted, n) // shorten to the members that count
        }
    }

    /// @notice How many equivocations (split views) were recorded for a foreign log.
    function equivocationCount(uint256 sourceChainId, address registry, uint32 region)
        external
        view
        returns (uint256)
    {
        return _equivocations[logIdOf(sourceChainId, registry, region)].length;
    }

    /// @notice Equivocations recorded for a foreign log, with both signed attestations: at most
    /// `limit` (and at most MAX_PAGE) from index `start` on.
    function equivocationsOf(uint256 sourceChainId, address registry, uint32 region, uint256 start, uint256 limit)
        external
        view
        returns (Equivocation[] memory page)
    {
        Equivocation[] storage all = _equivocations[logIdOf(sourceChainId, registry, region)];
        if (start >= all.length) return page;
        uint256 n = all.length - start;
        if (n > limit) n = limit;
        if (n > MAX_PAGE) n = MAX_PAGE;
        page = new Equivocation[](n);
        for (uint256 i = 0; i < n; ++i) {
            page[i] = all[start + i];
        }
    }

    /// @notice The current members.
    function members() external view returns (address[] memory) {
        return _memberList;
    }

    /// @notice Whether `account` is a current member.
    function isMember(address account) external view returns (bool) {
        return _epochOf[account] != 0;
    }

    /// @notice The epoch `account` signs its attestations with (0: not a member).
    function memberEpochOf(address account) external view returns (uint64) {
        return _epochOf[account];
    }

    /// @notice The EIP-712 domain separator members sign under.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }
}

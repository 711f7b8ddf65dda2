// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

/// @title Yellow River alliance relay (黄河链跨链互认): other provinces' checkpoints on this chain
/// @notice Alliance members (one relayer key per member province) check each new checkpoint of
/// another province's notary log (its signature against the key registered on the source
/// chain, its consistency with the last one they accepted) and sign an EIP-712 attestation of
/// (source chain id, registry, region, tree size, root). Anyone may submit a member's signed
/// attestation. Once `threshold` distinct members attested the same root for a size above the
/// log's latest accepted size, the checkpoint is accepted: a verifier connected only to this
/// chain checks a foreign receipt's inclusion proof against it. Two different roots attested
/// for the same log and size are recorded as an equivocation, with both signatures: a split
/// view, detected on chain (each root still counts its own attestations, so one lying member
/// cannot block the honest root). The alliance admin governs the member set and the threshold.
contract AllianceRelay is AccessControl, EIP712 {
    /// @notice EIP-712 type a member signs.
    bytes32 public constant CHECKPOINT_TYPEHASH =
        keccak256("Checkpoint(uint256 sourceChainId,address registry,uint32 region,uint64 treeSize,bytes32 root)");
    /// @notice Largest member set.
    uint32 public constant MAX_MEMBERS = 32;

    struct Checkpoint {
        uint256 sourceChainId;
        address registry;
        uint32 region;
        uint64 treeSize;
        bytes32 root;
    }

    struct Attestation {
        address member;
        bytes32 root;
        bytes signature;
    }

    struct Equivocation {
        uint64 treeSize;
        Attestation first;
        Attestation second;
    }

    mapping(address account => bool) private _members;
    address[] private _memberList;
    uint32 public threshold;

    mapping(bytes32 logId => uint64) private _latestSize;
    mapping(bytes32 logId => mapping(uint64 treeSize => bytes32 root)) private _accepted;
    mapping(bytes32 logId => mapping(uint64 treeSize => Attestation)) private _firstAttestation;
    mapping(bytes32 attestationKey => address[]) private _attesters;
    mapping(bytes32 attestationKey => mapping(address member => bool)) private _attested;
    mapping(bytes32 logId => Equivocation[]) private _equivocations;

    /// @notice Members must be distinct non-zero accounts, at most 32; 1 <= threshold <= members.
    error AllianceRelayInvalidMembers();
    /// @notice The signature is not a current member's.
    error AllianceRelayNotMember(address signer);
    /// @notice This member attested this root for this size already.
    error AllianceRelayAlreadyAttested(address member);
    /// @notice The size is not above the log's latest accepted size (and agrees with what was accepted).
    error AllianceRelayStale(uint64 treeSize, uint64 latestSize);
    /// @notice Size zero or root zero.
    error AllianceRelayInvalidCheckpoint();

    /// @notice The member set or the threshold changed.
    event MembersChanged(address[] members, uint32 threshold);
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

    /// @notice Replace the member set and threshold (alliance admin only).
    function setMembers(address[] calldata members, uint32 threshold_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setMembers(members, threshold_);
    }

    function _setMembers(address[] memory members, uint32 threshold_) private {
        if (members.length == 0 || members.length > MAX_MEMBERS || threshold_ == 0 || threshold_ > members.length) {
            revert AllianceRelayInvalidMembers();
        }
        for (uint256 i = 0; i < _memberList.length; ++i) {
            _members[_memberList[i]] = false;
        }
        for (uint256 i = 0; i < members.length; ++i) {
            if (members[i] == address(0) || _members[members[i]]) revert AllianceRelayInvalidMembers();
            _members[members[i]] = true;
        }
        _memberList = members;
        threshold = threshold_;
        emit MembersChanged(members, threshold_);
    }

    /// @notice Submit a member's signed attestation of a foreign checkpoint (anyone may submit).
    /// @return accepted whether the checkpoint is accepted after this attestation
    function attest(Checkpoint calldata c, bytes calldata signature) external returns (bool accepted) {
        if (c.treeSize == 0 || c.root == bytes32(0)) revert AllianceRelayInvalidCheckpoint();
        address signer = _signer(c, signature);
        bytes32 logId = logIdOf(c.sourceChainId, c.registry, c.region);
        if (_equivocates(logId, c, signer, signature) && _accepted[logId][c.treeSize] != bytes32(0)) {
            return false; // recorded; the accepted root stands
        }
        uint64 latest = _latestSize[logId];
        if (c.treeSize <= latest) revert AllianceRelayStale(c.treeSize, latest);
        return _count(logId, c, signer, signature);
    }

    function _signer(Checkpoint calldata c, bytes calldata signature) private view returns (address signer) {
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(CHECKPOINT_TYPEHASH, c.sourceChainId, c.registry, c.region, c.treeSize, c.root))
        );
        ECDSA.RecoverError err;
        (signer, err,) = ECDSA.tryRecover(digest, signature);
        if (err != ECDSA.RecoverError.NoError || !_members[signer]) revert AllianceRelayNotMember(signer);
    }

    /// @dev Records an equivocation when another root was attested first for this size.
    function _equivocates(bytes32 logId, Checkpoint calldata c, address signer, bytes calldata signature)
        private
        returns (bool)
    {
        Attestation storage first = _firstAttestation[logId][c.treeSize];
        if (first.member == address(0) || first.root == c.root) return false;
        _equivocations[logId].push(Equivocation(c.treeSize, first, Attestation(signer, c.root, signature)));
        emit EquivocationDetected(logId, c.treeSize, first.root, first.member, c.root, signer);
        return true;
    }

    function _count(bytes32 logId, Checkpoint calldata c, address signer, bytes calldata signature)
        private
        returns (bool)
    {
        bytes32 key = keccak256(abi.encode(logId, c.treeSize, c.root));
        if (_attested[key][signer]) revert AllianceRelayAlreadyAttested(signer);
        Attestation storage first = _firstAttestation[logId][c.treeSize];
        if (first.member == address(0)) {
            first.member = signer;
            first.root = c.root;
            first.signature = signature;
        }
        _attested[key][signer] = true;
        address[] storage attesters = _attesters[key];
        attesters.push(signer);
        emit Attested(logId, c.treeSize, c.root, signer);
        uint256 current;
        for (uint256 i = 0; i < attesters.length; ++i) {
            if (_members[attesters[i]]) ++current; // members removed since do not count
        }
        if (current < threshold) return false;
        _latestSize[logId] = c.treeSize;
        _accepted[logId][c.treeSize] = c.root;
        emit CheckpointAccepted(logId, c.sourceChainId, c.registry, c.region, c.treeSize, c.root);
        return true;
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

    /// @notice The members who attested `root` for this log and size, in order.
    function attestersOf(uint256 sourceChainId, address registry, uint32 region, uint64 treeSize, bytes32 root)
        external
        view
        returns (address[] memory)
    {
        return _attesters[keccak256(abi.encode(logIdOf(sourceChainId, registry, region), treeSize, root))];
    }

    /// @notice Equivocations (split views) recorded for a foreign log, with both signed attestations.
    function equivocationsOf(uint256 sourceChainId, address registry, uint32 region)
        external
        view
        returns (Equivocation[] memory)
    {
        return _equivocations[logIdOf(sourceChainId, registry, region)];
    }

    /// @notice The current members.
    function members() external view returns (address[] memory) {
        return _memberList;
    }

    /// @notice Whether `account` is a current member.
    function isMember(address account) external view returns (bool) {
        return _members[account];
    }

    /// @notice The EIP-712 domain separator members sign under.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }
}

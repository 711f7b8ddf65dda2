// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

/// @title Tender rules: bid deadline (投标截止时间判断) and bid-file consistency (投标文件一致性判断)
/// @notice A trading centre opens a section (标段) with its bid deadline and opening window.
/// Before the deadline each bidder's sealed commitment, signed by the bidder (EIP-712) and
/// relayed by the trading system, is recorded; at or after the deadline every submission,
/// replacement or withdrawal reverts, judged on block time. At opening (开标) each revealed
/// file hash is checked against its commitment; collusion signals (identical files, shared
/// device fingerprints) are flagged for supervisors; fewer than three valid bids fails the
/// section (招标投标法 Art. 28). Every decision costs the same gas whatever the number of bidders.
contract TenderRules is AccessControl, EIP712 {
    /// @notice EIP-712 type of a bidder's sealed commitment (first submission or replacement).
    bytes32 public constant COMMIT_TYPEHASH =
        keccak256("BidCommitment(bytes32 sectionId,bytes32 bidderId,bytes32 commitment,uint64 nonce)");
    /// @notice EIP-712 type of a bidder's withdrawal.
    bytes32 public constant WITHDRAW_TYPEHASH = keccak256("BidWithdrawal(bytes32 sectionId,bytes32 bidderId,uint64 nonce)");
    /// @notice 招标投标法 Art. 28: fewer valid bids than this and the tender must be re-run.
    uint32 public constant MIN_VALID_BIDS = 3;
    /// @notice Longest opening window a section may have.
    uint64 public constant MAX_OPENING_WINDOW = 30 days;

    enum SectionState {
        None,
        Bidding,
        Opening,
        Evaluation,
        Failed
    }

    enum BidState {
        None,
        Committed,
        Withdrawn,
        Valid,
        Inconsistent
    }

    enum FlagKind {
        DuplicateBidFile,
        SharedDeviceFingerprint
    }

    struct Section {
        uint32 region;
        SectionState state;
        uint64 deadline;
        uint64 openingEnds;
        uint32 activeBids;
        uint32 validBids;
        uint32 inconsistentBids;
    }

    struct Bid {
        BidState state;
        uint64 nonce;
        bytes32 commitment;
        bytes32 fileHash;
        bytes32 fingerprint;
    }

    struct Flag {
        FlagKind kind;
        bytes32 value;
        bytes32 firstBidder;
        bytes32 secondBidder;
    }

    mapping(bytes32 sectionId => Section) private _sections;
    mapping(bytes32 sectionId => mapping(bytes32 bidderId => Bid)) private _bids;
    mapping(bytes32 sectionId => bytes32[]) private _bidders;
    mapping(bytes32 sectionId => Flag[]) private _flags;
    mapping(bytes32 sectionId => mapping(bytes32 fileHash => bytes32 bidderId)) private _fileOwner;
    mapping(bytes32 sectionId => mapping(bytes32 fingerprint => bytes32 bidderId)) private _fingerprintOwner;
    mapping(bytes32 bidderId => address key) private _bidderKeys;

    /// @notice The bid deadline has passed: no submission, replacement or withdrawal any more.
    error BidDeadlinePassed(bytes32 sectionId, uint64 deadline, uint64 blockTime);
    /// @notice No section with this id.
    error TenderRulesUnknownSection(bytes32 sectionId);
    /// @notice A section with this region, project and section code exists already.
    error TenderRulesSectionExists(bytes32 sectionId);
    /// @notice The deadline must lie in the future and the opening window be 1 s .. 30 days.
    error TenderRulesInvalidSchedule(uint64 deadline, uint64 openingWindow);
    /// @notice The section is not in the state this step needs.
    error TenderRulesWrongState(bytes32 sectionId, SectionState state);
    /// @notice The bidder id is zero, unknown, or (when registering) taken; or the key is zero.
    error TenderRulesInvalidBidder(bytes32 bidderId);
    /// @notice The signature is not the bidder's own over exactly these fields.
    error TenderRulesInvalidSignature(bytes32 bidderId, address signer);
    /// @notice A signed message must carry a nonce above the bidder's last one in this section.
    error TenderRulesStaleNonce(bytes32 bidderId, uint64 lastNonce, uint64 nonce);
    /// @notice The bidder has no commitment in force in this section.
    error TenderRulesNoActiveBid(bytes32 sectionId, bytes32 bidderId);
    /// @notice Opening (开标) is only possible at or after the deadline.
    error TenderRulesOpeningBeforeDeadline(bytes32 sectionId, uint64 deadline, uint64 blockTime);
    /// @notice The opening window has closed.
    error TenderRulesOpeningWindowClosed(bytes32 sectionId, uint64 openingEnds, uint64 blockTime);

    /// @notice A section was opened for bidding.
    event SectionOpened(
        bytes32 indexed sectionId, uint32 indexed region, string project, string section, uint64 deadline, uint64 openingEnds
    );
    /// @notice A bidder (id = hash of its unified social credit code) was bound to its key.
    event BidderRegistered(bytes32 indexed bidderId, address key, uint32 region);
    /// @notice A sealed commitment was recorded; `replaced` when it replaced one in force.
    event BidCommitted(bytes32 indexed sectionId, bytes32 indexed bidderId, bytes32 commitment, uint64 nonce, bool replaced);
    /// @notice A bidder withdrew its commitment.
    event BidWithdrawn(bytes32 indexed sectionId, bytes32 indexed bidderId, uint64 nonce);
    /// @notice Opening (开标) started.
    event OpeningStarted(bytes32 indexed sectionId, uint64 blockTime);
    /// @notice A revealed bid matched its commitment.
    event BidOpened(bytes32 indexed sectionId, bytes32 indexed bidderId, bytes32 fileHash, bytes32 fingerprint);
    /// @notice A revealed bid did not match its commitment: the bid is invalid.
    event BidFileInconsistent(bytes32 indexed sectionId, bytes32 indexed bidderId, bytes32 committed, bytes32 revealed);
    /// @notice Two bidders opened the same file (围标串标预警).
    event DuplicateBidFile(bytes32 indexed sectionId, bytes32 fileHash, bytes32 firstBidder, bytes32 secondBidder);
    /// @notice Two bidders' files came from the same device.
    event SharedDeviceFingerprint(bytes32 indexed sectionId, bytes32 fingerprint, bytes32 firstBidder, bytes32 secondBidder);
    /// @notice Opening closed with at least three valid bids: the section proceeds to evaluation.
    event SectionProceeded(bytes32 indexed sectionId, uint32 validBids);
    /// @notice Opening closed with fewer than three valid bids (招标投标法 Art. 28): re-run the tender.
    event SectionFailed(bytes32 indexed sectionId, uint32 validBids);

    /// @param admin account that grants the per-region centre roles
    constructor(address admin) EIP712("LianzhengTenderRules", "1") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // --- identities ----------------------------------------------------------------

    /// @notice The role of the trading centre of `region` (GB/T 2260 code).
    function centreRole(uint32 region) public pure returns (bytes32) {
        return keccak256(abi.encode("TENDER_CENTRE", region));
    }

    /// @notice The id of a section: hash of region, project code and section code.
    function sectionIdOf(uint32 region, string calldata project, string calldata section) public pure returns (bytes32) {
        return keccak256(abi.encode(region, project, section));
    }

    /// @notice The sealed commitment a bidder signs: binds section, bidder, file, salt, device.
    /// @param fingerprint hash of the bidding device's fingerprint, or zero when not collected
    function commitmentOf(bytes32 sectionId, bytes32 bidderId, bytes32 fileHash, bytes32 salt, bytes32 fingerprint)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(sectionId, bidderId, fileHash, salt, fingerprint));
    }

    /// @notice Register a bidder once, after its CA certificate was checked off chain.
    /// @param bidderId hash of the bidder's unified social credit code
    /// @param key the bidder's signing account
    function registerBidder(uint32 region, bytes32 bidderId, address key) external onlyRole(centreRole(region)) {
        if (bidderId == bytes32(0) || key == address(0) || _bidderKeys[bidderId] != address(0)) {
            revert TenderRulesInvalidBidder(bidderId);
        }
        _bidderKeys[bidderId] = key;
        emit BidderRegistered(bidderId, key, region);
    }

    // --- bidding -------------------------------------------------------------------

    /// @notice Open a section for bidding until `deadline`, opening allowed for `openingWindow` after it.
    function openSection(
        uint32 region,
        string calldata project,
        string calldata section,
        uint64 deadline,
        uint64 openingWindow
    ) external onlyRole(centreRole(region)) returns (bytes32 sectionId) {
        if (deadline <= block.timestamp || openingWindow == 0 || openingWindow > MAX_OPENING_WINDOW) {
            revert TenderRulesInvalidSchedule(deadline, openingWindow);
        }
        sectionId = sectionIdOf(region, project, section);
        Section storage s = _sections[sectionId];
        if (s.state != SectionState.None) revert TenderRulesSectionExists(sectionId);
        s.region = region;
        s.state = SectionState.Bidding;
        s.deadline = deadline;
        s.openingEnds = deadline + openingWindow;
        emit SectionOpened(sectionId, region, project, section, deadline, s.openingEnds);
    }

    /// @notice Record (or replace) a bidder's sealed commitment, relayed with the bidder's signature.
    function commitBid(bytes32 sectionId, bytes32 bidderId, bytes32 commitment, uint64 nonce, bytes calldata signature)
        external
    {
        Bid storage bid = _beforeDeadline(sectionId, bidderId, nonce);
        _checkSigner(bidderId, keccak256(abi.encode(COMMIT_TYPEHASH, sectionId, bidderId, commitment, nonce)), signature);
        bool replaced = bid.state == BidState.Committed;
        if (bid.state == BidState.None) _bidders[sectionId].push(bidderId);
        if (!replaced) _sections[sectionId].activeBids += 1;
        bid.state = BidState.Committed;
        bid.nonce = nonce;
        bid.commitment = commitment;
        emit BidCommitted(sectionId, bidderId, commitment, nonce, replaced);
    }

    /// @notice Withdraw a bidder's commitment before the deadline, with the bidder's signature.
    function withdrawBid(bytes32 sectionId, bytes32 bidderId, uint64 nonce, bytes calldata signature) external {
        Bid storage bid = _beforeDeadline(sectionId, bidderId, nonce);
        _checkSigner(bidderId, keccak256(abi.encode(WITHDRAW_TYPEHASH, sectionId, bidderId, nonce)), signature);
        if (bid.state != BidState.Committed) revert TenderRulesNoActiveBid(sectionId, bidderId);
        _sections[sectionId].activeBids -= 1;
        bid.state = BidState.Withdrawn;
        bid.nonce = nonce;
        bid.commitment = bytes32(0);
        emit BidWithdrawn(sectionId, bidderId, nonce);
    }

    function _beforeDeadline(bytes32 sectionId, bytes32 bidderId, uint64 nonce) private view returns (Bid storage bid) {
        Section storage s = _sections[sectionId];
        if (s.state == SectionState.None) revert TenderRulesUnknownSection(sectionId);
        if (block.timestamp >= s.deadline) revert BidDeadlinePassed(sectionId, s.deadline, uint64(block.timestamp));
        if (s.state != SectionState.Bidding) revert TenderRulesWrongState(sectionId, s.state);
        bid = _bids[sectionId][bidderId];
        if (nonce <= bid.nonce) revert TenderRulesStaleNonce(bidderId, bid.nonce, nonce);
    }

    function _checkSigner(bytes32 bidderId, bytes32 structHash, bytes calldata signature) private view {
        address key = _bidderKeys[bidderId];
        if (key == address(0)) revert TenderRulesInvalidBidder(bidderId);
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(_hashTypedDataV4(structHash), signature);
        if (err != ECDSA.RecoverError.NoError || signer != key) revert TenderRulesInvalidSignature(bidderId, signer);
    }

    // --- opening (开标) --------------------------------------------------------------

    /// @notice Start opening: only the section's centre, at or after the deadline, within the window.
    function startOpening(bytes32 sectionId) external {
        Section storage s = _centreSection(sectionId);
        if (s.state != SectionState.Bidding) revert TenderRulesWrongState(sectionId, s.state);
        if (block.timestamp < s.deadline) {
            revert TenderRulesOpeningBeforeDeadline(sectionId, s.deadline, uint64(block.timestamp));
        }
        _withinWindow(sectionId, s);
        s.state = SectionState.Opening;
        emit OpeningStarted(sectionId, uint64(block.timestamp));
    }

    /// @notice Reveal a bid as opened: a file or fingerprint that does not match the commitment
    /// makes the bid invalid (recorded); identical files or fingerprints of two bidders are flagged.
    function revealBid(bytes32 sectionId, bytes32 bidderId, bytes32 fileHash, bytes32 salt, bytes32 fingerprint)
        external
    {
        Section storage s = _centreSection(sectionId);
        if (s.state != SectionState.Opening) revert TenderRulesWrongState(sectionId, s.state);
        _withinWindow(sectionId, s);
        Bid storage bid = _bids[sectionId][bidderId];
        if (bid.state != BidState.Committed) revert TenderRulesNoActiveBid(sectionId, bidderId);
        bid.fileHash = fileHash;
        bid.fingerprint = fingerprint;
        bytes32 revealed = commitmentOf(sectionId, bidderId, fileHash, salt, fingerprint);
        if (revealed != bid.commitment) {
            bid.state = BidState.Inconsistent;
            s.inconsistentBids += 1;
            emit BidFileInconsistent(sectionId, bidderId, bid.commitment, revealed);
            return;
        }
        bid.state = BidState.Valid;
        s.validBids += 1;
        emit BidOpened(sectionId, bidderId, fileHash, fingerprint);
        bytes32 first = _fileOwner[sectionId][fileHash];
        if (first == bytes32(0)) {
            _fileOwner[sectionId][fileHash] = bidderId;
        } else {
            _flags[sectionId].push(Flag(FlagKind.DuplicateBidFile, fileHash, first, bidderId));
            emit DuplicateBidFile(sectionId, fileHash, first, bidderId);
        }
        if (fingerprint != bytes32(0)) {
            first = _fingerprintOwner[sectionId][fingerprint];
            if (first == bytes32(0)) {
                _fingerprintOwner[sectionId][fingerprint] = bidderId;
            } else {
                _flags[sectionId].push(Flag(FlagKind.SharedDeviceFingerprint, fingerprint, first, bidderId));
                emit SharedDeviceFingerprint(sectionId, fingerprint, first, bidderId);
            }
        }
    }

    /// @notice Close opening: fewer than three valid bids fails the section, otherwise it
    /// proceeds to evaluation. The centre closes at any time during opening; after the window
    /// anyone may close, so that no section stays open for ever. Unrevealed bids are not valid.
    function closeOpening(bytes32 sectionId) external {
        Section storage s = _sections[sectionId];
        if (s.state == SectionState.None) revert TenderRulesUnknownSection(sectionId);
        bool windowOver = block.timestamp >= s.openingEnds;
        if (s.state == SectionState.Opening) {
            if (!windowOver) _checkRole(centreRole(s.region));
        } else if (s.state != SectionState.Bidding || !windowOver) {
            revert TenderRulesWrongState(sectionId, s.state);
        }
        if (s.validBids < MIN_VALID_BIDS) {
            s.state = SectionState.Failed;
            emit SectionFailed(sectionId, s.validBids);
        } else {
            s.state = SectionState.Evaluation;
            emit SectionProceeded(sectionId, s.validBids);
        }
    }

    function _centreSection(bytes32 sectionId) private view returns (Section storage s) {
        s = _sections[sectionId];
        if (s.state == SectionState.None) revert TenderRulesUnknownSection(sectionId);
        _checkRole(centreRole(s.region));
    }

    function _withinWindow(bytes32 sectionId, Section storage s) private view {
        if (block.timestamp >= s.openingEnds) {
            revert TenderRulesOpeningWindowClosed(sectionId, s.openingEnds, uint64(block.timestamp));
        }
    }

    // --- reads for supervisors and witnesses -----------------------------------------

    /// @notice A section's region, state, schedule and counts.
    function sectionOf(bytes32 sectionId) external view returns (Section memory) {
        return _sections[sectionId];
    }

    /// @notice A bidder's bid in a section.
    function bidOf(bytes32 sectionId, bytes32 bidderId) external view returns (Bid memory) {
        return _bids[sectionId][bidderId];
    }

    /// @notice Every bidder that ever committed in a section, in order of first commitment.
    function biddersOf(bytes32 sectionId) external view returns (bytes32[] memory) {
        return _bidders[sectionId];
    }

    /// @notice Collusion flags raised at opening (围标串标预警), in order.
    function flagsOf(bytes32 sectionId) external view returns (Flag[] memory) {
        return _flags[sectionId];
    }

    /// @notice The signing key registered for a bidder (zero when unknown).
    function bidderKey(bytes32 bidderId) external view returns (address) {
        return _bidderKeys[bidderId];
    }

    /// @notice The EIP-712 domain separator bidders sign under.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }
}

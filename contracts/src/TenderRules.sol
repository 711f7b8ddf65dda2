// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {RFC9162} from "./RFC9162.sol";

/// @title Tender rules: the procedure as the law writes it
/// @notice 投标截止时间判断 and 投标文件一致性判断 in contract code, with nothing learnable before
/// the deadline. A centre opens a section under a trading-type profile (minimum bidding period,
/// minimum bidders, opening grace: set by the rules admin, never by a centre) and owns it: only
/// its account acts on it. Bids go into a sealed box kept off chain (each bidder holds the
/// notary's signed receipt of its entry); nothing of the box reaches the chain before the
/// deadline, so no reader learns who bid or how many (招标投标法 Art. 22). The box's size and
/// RFC 9162 root are sealed here within a short window after the deadline; fewer than the
/// minimum bidders fails the section with nothing opened (实施条例 Art. 44). Bid files are
/// encrypted with a key split k-of-n among independent holders, whose releases are recorded
/// here. Opening (开标) is allowed only in [deadline, deadline + grace] (Art. 34): each box entry
/// is opened against the sealed root (its bidder identified by its per-section pseudonym and
/// its own signature) and checked against the bidder's own commitment, or is given a cause
/// derived here from the holders' releases: the bidder's (撤销) when k holders released, others'
/// (撤回) when not (电子招标投标办法 Art. 31). Closing is refused while any entry is unsettled.
/// Rejecting all bids (否决) is the evaluation committee's signed decision, not an automatic one.
contract TenderRules is AccessControl, EIP712 {
    /// @notice EIP-712 type a bidder signs over its sealed entry.
    bytes32 public constant SEALED_BID_TYPEHASH =
        keccak256("SealedBid(bytes32 sectionId,bytes32 pseudonym,bytes32 cipherHash,bytes32 clearCommitment,bytes32 sealHash)");
    /// @notice EIP-712 type a key holder signs to record its release (relayed: holders need no gas).
    bytes32 public constant SHARE_RELEASE_TYPEHASH = keccak256("ShareRelease(bytes32 sectionId,bytes32 digest)");
    /// @notice EIP-712 type a committee member signs to reject all bids.
    bytes32 public constant REJECTION_TYPEHASH = keccak256("Rejection(bytes32 sectionId,bytes32 decisionHash)");
    /// @notice Kinds of collusion signals, in the order a box entry commits to them.
    uint256 public constant SIGNAL_KINDS = 6; // clear file, author, software, machine, device, lock
    uint256 public constant MAX_HOLDERS = 16;
    /// @notice Key holders (supervisors, alliance peers, the notary …) are named by the rules
    /// admin, never by a centre; each registers its own X25519 key.
    bytes32 public constant KEY_HOLDER_ROLE = keccak256("KEY_HOLDER");
    bytes32 public constant HOLDER_KEY_TYPEHASH = keccak256("HolderKey(bytes32 key)");

    enum SectionState {
        None,
        Bidding,
        Sealed,
        Evaluation,
        Failed,
        Rejected
    }

    enum FailReason {
        None,
        FewerThanMinBidders,
        NotSealed
    }

    enum BidState {
        None,
        Valid,
        Inconsistent,
        Revoked, // 撤销: not decrypted because of the bidder
        Withdrawn, // 撤回: not decrypted because of others
        Replaced // the same bidder's later entry replaces it (招标投标法 Art. 29: changed before the deadline)
    }

    struct Profile {
        uint64 minBiddingPeriod;
        uint64 openingGrace;
        uint64 sealWindow;
        uint32 minBidders;
        bool exists;
    }

    struct Section {
        address owner;
        uint32 region;
        SectionState state;
        FailReason failReason;
        bytes32 profileId;
        uint64 deadline;
        uint64 sealedAt;
        uint32 boxSize;
        bytes32 boxRoot;
        uint8 threshold;
        uint8 released;
        uint32 settled;
        uint32 valid;
    }

    /// @notice What a box entry commits to; its RFC 9162 leaf is SHA-256(0x00 ‖ abi.encode(entry)).
    struct BoxEntry {
        bytes32 sectionId;
        bytes32 pseudonym;
        bytes32 cipherHash;
        bytes32 clearCommitment;
        bytes32 sealHash;
        bytes32 signalsHash;
        uint64 receivedAt;
    }

    /// @notice Who an entry is from, and what the bidder signed besides the entry's hashes:
    /// ``sealHash`` = keccak256(abi.encode(keccak256(fileKey), sharesHash, version)) binds the file
    /// key, the sealed shares as the bidder made them and its version (a later one changes the bid).
    struct Identity {
        bytes32 bidderId;
        bytes32 pseudonymSalt;
        bytes signature;
        bytes32 sharesHash;
        uint64 version;
    }

    /// @notice What opening reveals of an entry.
    struct Opening {
        Identity id;
        bytes16 fileKey;
        bytes32 clearFileHash;
        bytes32 clearSalt;
        bytes32[6] signals;
    }

    struct BidderKey {
        address key;
        uint64 since;
        uint64 until;
    }

    struct Bidder {
        bytes32 caCertHash;
        bool revoked;
        BidderKey[] keys;
    }

    struct Bid {
        BidState state;
        bytes32 bidderId;
        bytes32 pseudonym;
        uint64 version;
    }

    mapping(bytes32 profileId => Profile) private _profiles;
    mapping(bytes32 sectionId => Section) private _sections;
    mapping(bytes32 sectionId => address[]) private _holders;
    mapping(address holder => bytes32 x25519) private _holderKeys;
    mapping(bytes32 sectionId => mapping(address holder => bytes32 digest)) private _releases;
    mapping(bytes32 sectionId => mapping(uint32 index => Bid)) private _bids;
    mapping(bytes32 sectionId => mapping(uint256 kind => mapping(bytes32 value => uint32 indexPlusOne))) private _signal;
    mapping(bytes32 sectionId => mapping(bytes32 bidderId => uint32 indexPlusOne)) private _liveEntry;
    mapping(bytes32 sectionId => uint32) private _bidderCount; // distinct bidders opened, plus undecrypted entries
    mapping(bytes32 sectionId => address[]) private _committee;
    mapping(uint32 region => mapping(bytes32 bidderId => Bidder)) private _bidders;

    error TenderRulesUnknownProfile(bytes32 profileId);
    error TenderRulesInvalidProfile();
    error TenderRulesUnknownSection(bytes32 sectionId);
    error TenderRulesSectionExists(bytes32 sectionId);
    /// @notice Only the centre account that opened the section acts on it.
    error TenderRulesNotOwner(bytes32 sectionId, address caller);
    /// @notice The deadline leaves less than the profile's minimum bidding period (招标投标法 Art. 24).
    error TenderRulesBiddingPeriodTooShort(uint64 deadline, uint64 earliest);
    error TenderRulesInvalidHolders();
    /// @notice A section's holder must hold KEY_HOLDER_ROLE and have registered its X25519 key.
    error TenderRulesHolderWithoutKey(address holder);
    error TenderRulesWrongState(bytes32 sectionId, SectionState state);
    /// @notice A deadline may only move later, and only before it has passed.
    error BidDeadlinePassed(bytes32 sectionId, uint64 deadline, uint64 blockTime);
    error TenderRulesDeadlineNotLater(uint64 deadline, uint64 proposed);
    /// @notice The box is sealed at the deadline, within the profile's seal window.
    error TenderRulesOutsideSealWindow(bytes32 sectionId, uint64 from, uint64 until, uint64 blockTime);
    /// @notice Opening is allowed only in [deadline, deadline + grace] (招标投标法 Art. 34).
    error TenderRulesOutsideOpeningWindow(bytes32 sectionId, uint64 from, uint64 until, uint64 blockTime);
    error TenderRulesNotHolder(bytes32 sectionId, address caller);
    error TenderRulesAlreadyReleased(bytes32 sectionId, address holder);
    error TenderRulesEmptyRelease();
    /// @notice The owner settles undecryptable entries only in the second half of the opening window.
    error TenderRulesTooEarlyToSettle(bytes32 sectionId, uint64 from, uint64 blockTime);
    /// @notice The entry is not at this index of the sealed box.
    error TenderRulesNotInBox(bytes32 sectionId, uint32 index);
    error TenderRulesAlreadySettled(bytes32 sectionId, uint32 index);
    /// @notice The pseudonym is not this bidder's for this section, or the bidder is unknown.
    error TenderRulesWrongIdentity(bytes32 sectionId, bytes32 bidderId);
    /// @notice The file key, shares or version given are not the ones the bidder signed.
    error TenderRulesSealMismatch(bytes32 sectionId, uint32 index);
    /// @notice In the first half of the opening window an entry opens only consistently: the
    /// bidder's own time to open its bid; "inconsistent" is recorded by the owner afterwards.
    error TenderRulesInconsistentTooEarly(bytes32 sectionId, uint32 index, uint64 from);
    /// @notice The entry is not signed by a key the bidder held when the entry was received.
    error TenderRulesInvalidSignature(bytes32 bidderId, address signer);
    error TenderRulesSignalsMismatch(bytes32 sectionId, uint32 index);
    /// @notice Closing is refused while a box entry is neither opened nor given a cause.
    error TenderRulesUnsettledBids(bytes32 sectionId, uint32 settled, uint32 boxSize);
    error TenderRulesInvalidBidder(uint32 region, bytes32 bidderId);
    error TenderRulesInvalidCommittee();
    error TenderRulesNotEnoughSignatures(uint256 valid, uint256 needed);

    event ProfileSet(bytes32 indexed profileId, uint64 minBiddingPeriod, uint64 openingGrace, uint64 sealWindow, uint32 minBidders);
    event SectionOpened(
        bytes32 indexed sectionId, uint32 indexed region, address owner, string project, string section, bytes32 profileId,
        uint64 deadline
    );
    /// @notice The independent holders of the section's bid-file keys, ``threshold`` of whom decrypt.
    event KeyHoldersSet(bytes32 indexed sectionId, address[] holders, uint8 threshold);
    event HolderKeySet(address indexed holder, bytes32 key);
    event DeadlineExtended(bytes32 indexed sectionId, uint64 previous, uint64 deadline, bytes32 reasonHash);
    event BoxSealed(bytes32 indexed sectionId, uint32 size, bytes32 root);
    event SectionFailed(bytes32 indexed sectionId, FailReason reason, uint32 bids);
    event SharesReleased(bytes32 indexed sectionId, address indexed holder, bytes32 digest);
    event BidOpened(bytes32 indexed sectionId, uint32 indexed index, bytes32 bidderId, bytes32 pseudonym, bytes16 fileKey,
        bytes32 clearFileHash);
    event BidFileInconsistent(bytes32 indexed sectionId, uint32 indexed index, bytes32 bidderId, bytes32 pseudonym,
        bytes16 fileKey, bytes32 clearFileHash);
    /// @notice An entry could not be decrypted: ``byBidder`` (撤销) or because of others (撤回).
    event BidUndecryptable(bytes32 indexed sectionId, uint32 indexed index, bytes32 pseudonym, bool byBidder);
    /// @notice The same bidder's entry ``by`` (higher signed version) replaces entry ``replaced``.
    event BidReplaced(bytes32 indexed sectionId, uint32 replaced, uint32 by, bytes32 bidderId);
    /// @notice Two entries share a collusion signal (围标串标预警): kind 0 is the clear file.
    event SharedSignal(bytes32 indexed sectionId, uint256 kind, bytes32 value, bytes32 firstPseudonym,
        bytes32 secondPseudonym);
    event HolderWithheld(bytes32 indexed sectionId, address holder);
    event OpeningClosed(bytes32 indexed sectionId, uint32 valid, uint32 bids);
    event CommitteeSet(bytes32 indexed sectionId, address[] members);
    event AllBidsRejected(bytes32 indexed sectionId, bytes32 decisionHash, address[] signers);
    event BidderRegistered(uint32 indexed region, bytes32 indexed bidderId, bytes32 caCertHash, address key);
    event BidderKeyRotated(uint32 indexed region, bytes32 indexed bidderId, address previous, address key);
    event BidderRevoked(uint32 indexed region, bytes32 indexed bidderId);

    /// @param admin the rules admin: sets profiles and grants centre roles
    constructor(address admin) EIP712("LianzhengTenderRules", "2") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice The role of a region's trading centre (GB/T 2260 code).
    function centreRole(uint32 region) public pure returns (bytes32) {
        return keccak256(abi.encode("CENTRE", region));
    }

    /// @notice The id of a section: region, project code and section code.
    function sectionIdOf(uint32 region, string calldata project, string calldata section) public pure returns (bytes32) {
        return keccak256(abi.encode(region, project, section));
    }

    /// @notice A bidder's pseudonym in a section; unlinkable across sections without ``salt``.
    function pseudonymOf(bytes32 sectionId, bytes32 bidderId, bytes32 salt) public pure returns (bytes32) {
        return keccak256(abi.encode(sectionId, bidderId, salt));
    }

    /// @notice The RFC 9162 leaf hash of a box entry.
    function leafHashOf(BoxEntry calldata e) public pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x00), abi.encode(e)));
    }

    // --- profiles and bidders ------------------------------------------------------------

    /// @notice Set a trading-type profile's values (their legal sources: rules/tender/profiles.json).
    function setProfile(bytes32 profileId, uint64 minBiddingPeriod, uint64 openingGrace, uint64 sealWindow, uint32 minBidders)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (openingGrace == 0 || sealWindow == 0 || minBidders == 0) revert TenderRulesInvalidProfile();
        _profiles[profileId] = Profile(minBiddingPeriod, openingGrace, sealWindow, minBidders, true);
        emit ProfileSet(profileId, minBiddingPeriod, openingGrace, sealWindow, minBidders);
    }

    /// @notice Register a bidder of the region, bound to the hash of its CA certificate (centre only).
    function registerBidder(uint32 region, bytes32 bidderId, bytes32 caCertHash, address key)
        external
        onlyRole(centreRole(region))
    {
        Bidder storage b = _bidders[region][bidderId];
        if (bidderId == bytes32(0) || key == address(0) || caCertHash == bytes32(0) || b.keys.length != 0) {
            revert TenderRulesInvalidBidder(region, bidderId);
        }
        b.caCertHash = caCertHash;
        b.keys.push(BidderKey(key, uint64(block.timestamp), 0));
        emit BidderRegistered(region, bidderId, caCertHash, key);
    }

    /// @notice Replace a bidder's key (centre only); entries signed before stay valid.
    function rotateBidderKey(uint32 region, bytes32 bidderId, address key) external onlyRole(centreRole(region)) {
        Bidder storage b = _bidders[region][bidderId];
        if (b.keys.length == 0 || b.revoked || key == address(0)) revert TenderRulesInvalidBidder(region, bidderId);
        BidderKey storage last = b.keys[b.keys.length - 1];
        last.until = uint64(block.timestamp);
        b.keys.push(BidderKey(key, uint64(block.timestamp), 0));
        emit BidderKeyRotated(region, bidderId, last.key, key);
    }

    /// @notice Revoke a bidder (centre only): its current key signs nothing from now on.
    function revokeBidder(uint32 region, bytes32 bidderId) external onlyRole(centreRole(region)) {
        Bidder storage b = _bidders[region][bidderId];
        if (b.keys.length == 0 || b.revoked) revert TenderRulesInvalidBidder(region, bidderId);
        b.revoked = true;
        b.keys[b.keys.length - 1].until = uint64(block.timestamp);
        emit BidderRevoked(region, bidderId);
    }

    // --- the section ------------------------------------------------------------------------

    /// @notice Open a section; the caller (a centre of ``region``) owns it.
    /// @param holders independent key holders (centre, supervisor, notary, alliance peer ...)
    /// @param threshold how many holders' shares decrypt a bid file; at least 2: no holder alone
    function openSection(
        uint32 region,
        string calldata project,
        string calldata section,
        bytes32 profileId,
        uint64 deadline,
        address[] calldata holders,
        uint8 threshold
    ) external onlyRole(centreRole(region)) returns (bytes32 sectionId) {
        _checkSchedule(profileId, deadline);
        _checkHolders(holders, threshold);
        sectionId = sectionIdOf(region, project, section);
        Section storage s = _sections[sectionId];
        if (s.state != SectionState.None) revert TenderRulesSectionExists(sectionId);
        s.owner = msg.sender;
        s.region = region;
        s.state = SectionState.Bidding;
        s.profileId = profileId;
        s.deadline = deadline;
        s.threshold = threshold;
        _holders[sectionId] = holders;
        emit SectionOpened(sectionId, region, msg.sender, project, section, profileId, deadline);
        emit KeyHoldersSet(sectionId, holders, threshold);
    }

    function _checkSchedule(bytes32 profileId, uint64 deadline) private view {
        Profile storage p = _profiles[profileId];
        if (!p.exists) revert TenderRulesUnknownProfile(profileId);
        uint64 earliest = uint64(block.timestamp) + p.minBiddingPeriod;
        if (deadline < earliest) revert TenderRulesBiddingPeriodTooShort(deadline, earliest);
    }

    function _checkHolders(address[] calldata holders, uint8 threshold) private view {
        if (holders.length < 2 || holders.length > MAX_HOLDERS || threshold < 2 || threshold > holders.length) {
            revert TenderRulesInvalidHolders();
        }
        for (uint256 i = 0; i < holders.length; ++i) {
            if (holders[i] == address(0)) revert TenderRulesInvalidHolders();
            if (!hasRole(KEY_HOLDER_ROLE, holders[i]) || _holderKeys[holders[i]] == bytes32(0)) {
                revert TenderRulesHolderWithoutKey(holders[i]);
            }
            for (uint256 j = 0; j < i; ++j) {
                if (holders[j] == holders[i]) revert TenderRulesInvalidHolders();
            }
        }
    }

    /// @notice Move the deadline later, before it has passed (招标投标法 Art. 23; 实施条例 Art. 21).
    /// @param reasonHash hash of the notarized reason (the clarification that needs the time)
    function extendDeadline(bytes32 sectionId, uint64 deadline, bytes32 reasonHash) external {
        Section storage s = _owned(sectionId, SectionState.Bidding);
        if (block.timestamp >= s.deadline) revert BidDeadlinePassed(sectionId, s.deadline, uint64(block.timestamp));
        if (deadline <= s.deadline) revert TenderRulesDeadlineNotLater(s.deadline, deadline);
        emit DeadlineExtended(sectionId, s.deadline, deadline, reasonHash);
        s.deadline = deadline;
    }

    /// @notice Seal the box of bids: its size and RFC 9162 root, at the deadline (within the
    /// profile's seal window). Fewer entries than the profile's minimum bidders fails the section
    /// and nothing is opened (实施条例 Art. 44).
    function sealBox(bytes32 sectionId, uint32 size, bytes32 root) external {
        Section storage s = _owned(sectionId, SectionState.Bidding);
        Profile storage p = _profiles[s.profileId];
        if (block.timestamp < s.deadline || block.timestamp > s.deadline + p.sealWindow) {
            revert TenderRulesOutsideSealWindow(sectionId, s.deadline, s.deadline + p.sealWindow, uint64(block.timestamp));
        }
        s.boxSize = size;
        s.boxRoot = root;
        s.sealedAt = uint64(block.timestamp);
        emit BoxSealed(sectionId, size, root);
        if (size < p.minBidders) {
            s.state = SectionState.Failed;
            s.failReason = FailReason.FewerThanMinBidders;
            emit SectionFailed(sectionId, FailReason.FewerThanMinBidders, size);
        } else {
            s.state = SectionState.Sealed;
        }
    }

    /// @notice Anyone may fail a section whose box was not sealed in its window: the centre
    /// cannot hold a tender open by not sealing.
    function failUnsealed(bytes32 sectionId) external {
        Section storage s = _section(sectionId);
        if (s.state != SectionState.Bidding) revert TenderRulesWrongState(sectionId, s.state);
        uint64 until = s.deadline + _profiles[s.profileId].sealWindow;
        if (block.timestamp <= until) {
            revert TenderRulesOutsideSealWindow(sectionId, until, type(uint64).max, uint64(block.timestamp));
        }
        s.state = SectionState.Failed;
        s.failReason = FailReason.NotSealed;
        emit SectionFailed(sectionId, FailReason.NotSealed, 0);
    }

    /// @notice A holder records that it released its shares of the section's bid keys to the
    /// opening (``digest``: hash of what it released, in box order). Only after the seal, in the
    /// opening window.
    function releaseShares(bytes32 sectionId, bytes32 digest) external {
        _release(sectionId, msg.sender, digest);
    }

    /// @notice A key holder registers the X25519 key its shares are sealed to (its own act: a
    /// centre cannot hand bidders a key it controls).
    function setHolderKey(bytes32 key) external {
        _setHolderKey(msg.sender, key);
    }

    /// @notice The same, relayed: ``signature`` is the holder's EIP-712 ``HolderKey``.
    function setHolderKeyFor(address holder, bytes32 key, bytes calldata signature) external {
        bytes32 typed = _hashTypedDataV4(keccak256(abi.encode(HOLDER_KEY_TYPEHASH, key)));
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(typed, signature);
        if (err != ECDSA.RecoverError.NoError || signer != holder) revert TenderRulesHolderWithoutKey(holder);
        _setHolderKey(holder, key);
    }

    function _setHolderKey(address holder, bytes32 key) private {
        if (!hasRole(KEY_HOLDER_ROLE, holder) || key == bytes32(0)) revert TenderRulesHolderWithoutKey(holder);
        _holderKeys[holder] = key;
        emit HolderKeySet(holder, key);
    }

    /// @notice The X25519 key a holder registered (zero when none).
    function holderKeyOf(address holder) external view returns (bytes32) {
        return _holderKeys[holder];
    }

    /// @notice The same, relayed: ``signature`` is the holder's EIP-712 ``ShareRelease``.
    function releaseSharesFor(bytes32 sectionId, address holder, bytes32 digest, bytes calldata signature) external {
        bytes32 typed = _hashTypedDataV4(keccak256(abi.encode(SHARE_RELEASE_TYPEHASH, sectionId, digest)));
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(typed, signature);
        if (err != ECDSA.RecoverError.NoError || signer != holder) revert TenderRulesNotHolder(sectionId, signer);
        _release(sectionId, holder, digest);
    }

    function _release(bytes32 sectionId, address holder, bytes32 digest) private {
        Section storage s = _section(sectionId);
        if (s.state != SectionState.Sealed) revert TenderRulesWrongState(sectionId, s.state);
        _inOpeningWindow(sectionId, s);
        if (!_isHolder(sectionId, holder)) revert TenderRulesNotHolder(sectionId, holder);
        if (_releases[sectionId][holder] != bytes32(0)) revert TenderRulesAlreadyReleased(sectionId, holder);
        if (digest == bytes32(0)) revert TenderRulesEmptyRelease();
        _releases[sectionId][holder] = digest;
        s.released += 1;
        emit SharesReleased(sectionId, holder, digest);
    }

    /// @notice Open box entry ``index`` (anyone holding its opening: the centre's opening service
    /// or the bidder decrypting its own, 不见面开标): it must be in the sealed box, received before
    /// the deadline, its pseudonym this bidder's, signed by a key the bidder held when the entry
    /// was received; the revealed clear file hash is checked
    /// against the bidder's own commitment (valid or inconsistent), the collusion signals against
    /// the entry and against the other entries' (flags name both pseudonyms).
    function openBid(bytes32 sectionId, uint32 index, BoxEntry calldata entry, bytes32[] calldata proof,
        Opening calldata o) external returns (BidState state)
    {
        Section storage s = _openable(sectionId, index, entry, proof);
        _checkIdentity(sectionId, index, s.region, entry, o.id, keccak256(abi.encodePacked(o.fileKey)));
        if (keccak256(abi.encode(o.signals)) != entry.signalsHash) revert TenderRulesSignalsMismatch(sectionId, index);
        bool consistent = keccak256(abi.encode(o.clearFileHash, o.clearSalt)) == entry.clearCommitment;
        if (!consistent) {
            uint64 from = s.deadline + _profiles[s.profileId].openingGrace / 2;
            if (block.timestamp < from) revert TenderRulesInconsistentTooEarly(sectionId, index, from);
            if (s.owner != msg.sender) revert TenderRulesNotOwner(sectionId, msg.sender);
        }
        Bid storage bid = _bids[sectionId][index];
        bid.bidderId = o.id.bidderId;
        bid.pseudonym = entry.pseudonym;
        bid.version = o.id.version;
        s.settled += 1;
        if (consistent) {
            bid.state = BidState.Valid;
            s.valid += 1;
            emit BidOpened(sectionId, index, o.id.bidderId, entry.pseudonym, o.fileKey, o.clearFileHash);
        } else {
            bid.state = BidState.Inconsistent;
            emit BidFileInconsistent(sectionId, index, o.id.bidderId, entry.pseudonym, o.fileKey, o.clearFileHash);
        }
        _keepLatest(sectionId, s, index, o.id.bidderId, o.id.version);
        _flagSignals(sectionId, index, o.id.bidderId, entry.pseudonym, o.signals);
        return _bids[sectionId][index].state;
    }

    /// @dev A keyed signal value met before under another bidder's entry is a collusion flag.
    function _flagSignals(bytes32 sectionId, uint32 index, bytes32 bidderId, bytes32 pseudonym,
        bytes32[6] calldata signals) private
    {
        for (uint256 kind = 0; kind < SIGNAL_KINDS; ++kind) {
            bytes32 value = signals[kind];
            if (value == bytes32(0)) continue;
            uint32 first = _signal[sectionId][kind][value];
            if (first == 0) {
                _signal[sectionId][kind][value] = index + 1;
                continue;
            }
            Bid storage earlier = _bids[sectionId][first - 1];
            if (earlier.bidderId != bidderId) { // a bidder shares nothing with itself
                emit SharedSignal(sectionId, kind, value, earlier.pseudonym, pseudonym);
            }
        }
    }

    /// @dev One bidder, one bid: of two entries of the same bidder the one of the higher signed
    /// version counts (Art. 29: a change before the deadline; a replayed older entry loses
    /// wherever it sits in the box) and the other is replaced, whichever is settled first.
    function _keepLatest(bytes32 sectionId, Section storage s, uint32 index, bytes32 bidderId, uint64 version)
        private
    {
        uint32 live = _liveEntry[sectionId][bidderId];
        if (live == 0) {
            _liveEntry[sectionId][bidderId] = index + 1;
            _bidderCount[sectionId] += 1;
            return;
        }
        uint32 other = live - 1;
        uint64 otherVersion = _bids[sectionId][other].version;
        bool wins = version > otherVersion || (version == otherVersion && index > other);
        (uint32 loser, uint32 winner) = wins ? (other, index) : (index, other);
        Bid storage replaced = _bids[sectionId][loser];
        if (replaced.state == BidState.Valid) s.valid -= 1;
        replaced.state = BidState.Replaced;
        _liveEntry[sectionId][bidderId] = winner + 1;
        emit BidReplaced(sectionId, loser, winner, bidderId);
    }

    /// @notice Settle an entry whose file could not be decrypted (the owner, in the second half of
    /// the opening window: the first half is the bidders' to decrypt their own). The cause is not
    /// the owner's to choose: with ``threshold`` holders released, the key was there and the
    /// failure is the bidder's (撤销); with fewer, it is others' (撤回) (电子招标投标办法 Art. 31).
    function markUndecryptable(bytes32 sectionId, uint32 index, BoxEntry calldata entry, bytes32[] calldata proof,
        Identity calldata id, bytes32 fileKeyHash) external returns (BidState state)
    {
        Section storage s = _openable(sectionId, index, entry, proof);
        if (s.owner != msg.sender) revert TenderRulesNotOwner(sectionId, msg.sender);
        uint64 from = s.deadline + _profiles[s.profileId].openingGrace / 2;
        if (block.timestamp < from) revert TenderRulesTooEarlyToSettle(sectionId, from, uint64(block.timestamp));
        _checkIdentity(sectionId, index, s.region, entry, id, fileKeyHash);
        bool byBidder = s.released >= s.threshold;
        state = byBidder ? BidState.Revoked : BidState.Withdrawn;
        Bid storage bid = _bids[sectionId][index];
        bid.state = state;
        bid.bidderId = id.bidderId;
        bid.pseudonym = entry.pseudonym;
        bid.version = id.version;
        s.settled += 1;
        _keepLatest(sectionId, s, index, id.bidderId, id.version); // one bidder counts once
        emit BidUndecryptable(sectionId, index, entry.pseudonym, byBidder);
        state = _bids[sectionId][index].state;
    }

    /// @notice Close the opening once every box entry is opened or settled (the owner); records
    /// the number of valid bids and names every holder that never released its shares.
    function closeOpening(bytes32 sectionId) external {
        Section storage s = _owned(sectionId, SectionState.Sealed);
        if (s.settled != s.boxSize) revert TenderRulesUnsettledBids(sectionId, s.settled, s.boxSize);
        _close(sectionId, s);
    }

    /// @notice After the opening window anyone may close an opening the owner left unfinished:
    /// every entry still unsettled counts as withdrawn because of others (撤回), not the bidder's.
    function expireOpening(bytes32 sectionId) external {
        Section storage s = _section(sectionId);
        if (s.state != SectionState.Sealed) revert TenderRulesWrongState(sectionId, s.state);
        uint64 until = s.deadline + _profiles[s.profileId].openingGrace;
        if (block.timestamp <= until) {
            revert TenderRulesOutsideOpeningWindow(sectionId, until, type(uint64).max, uint64(block.timestamp));
        }
        for (uint32 i = 0; i < s.boxSize; ++i) {
            Bid storage bid = _bids[sectionId][i];
            if (bid.state == BidState.None) {
                bid.state = BidState.Withdrawn;
                _bidderCount[sectionId] += 1;
                emit BidUndecryptable(sectionId, i, bytes32(0), false);
            }
        }
        s.settled = s.boxSize;
        _close(sectionId, s);
    }

    function _close(bytes32 sectionId, Section storage s) private {
        address[] storage holders = _holders[sectionId];
        for (uint256 i = 0; i < holders.length; ++i) {
            if (_releases[sectionId][holders[i]] == bytes32(0)) emit HolderWithheld(sectionId, holders[i]);
        }
        emit OpeningClosed(sectionId, s.valid, s.boxSize);
        uint32 bidders = _bidderCount[sectionId];
        if (bidders < _profiles[s.profileId].minBidders) { // entries were one bidder's replacements
            s.state = SectionState.Failed;
            s.failReason = FailReason.FewerThanMinBidders;
            emit SectionFailed(sectionId, FailReason.FewerThanMinBidders, bidders);
        } else {
            s.state = SectionState.Evaluation;
        }
    }

    /// @notice The evaluation committee's members (owner, once the opening is closed).
    function setCommittee(bytes32 sectionId, address[] calldata members) external {
        _owned(sectionId, SectionState.Evaluation);
        if (members.length == 0 || _committee[sectionId].length != 0) revert TenderRulesInvalidCommittee();
        for (uint256 i = 0; i < members.length; ++i) {
            if (members[i] == address(0)) revert TenderRulesInvalidCommittee();
            for (uint256 j = 0; j < i; ++j) {
                if (members[j] == members[i]) revert TenderRulesInvalidCommittee();
            }
        }
        _committee[sectionId] = members;
        emit CommitteeSet(sectionId, members);
    }

    /// @notice Reject all bids (否决, 评标委员会和评标方法暂行规定 Art. 27): the committee's own
    /// decision, signed by more than half of its members (EIP-712 Rejection).
    function rejectAllBids(bytes32 sectionId, bytes32 decisionHash, bytes[] calldata signatures) external {
        Section storage s = _section(sectionId);
        if (s.state != SectionState.Evaluation) revert TenderRulesWrongState(sectionId, s.state);
        address[] storage members = _committee[sectionId];
        if (members.length == 0) revert TenderRulesInvalidCommittee();
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(REJECTION_TYPEHASH, sectionId, decisionHash)));
        address[] memory signers = new address[](signatures.length);
        uint256 count = 0;
        for (uint256 i = 0; i < signatures.length; ++i) {
            (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, signatures[i]);
            if (err != ECDSA.RecoverError.NoError || !_inList(members, signer) || _inList(signers, signer)) continue;
            signers[count++] = signer;
        }
        if (count * 2 <= members.length) revert TenderRulesNotEnoughSignatures(count, members.length / 2 + 1);
        assembly {
            mstore(signers, count)
        }
        s.state = SectionState.Rejected;
        emit AllBidsRejected(sectionId, decisionHash, signers);
    }

    // --- reads -------------------------------------------------------------------------------

    function profileOf(bytes32 profileId) external view returns (Profile memory) {
        return _profiles[profileId];
    }

    function sectionOf(bytes32 sectionId) external view returns (Section memory) {
        return _sections[sectionId];
    }

    /// @notice A section's state alone (what ExpertDraw asks: are its bids opened?).
    function sectionStateOf(bytes32 sectionId) external view returns (SectionState) {
        return _sections[sectionId].state;
    }

    function holdersOf(bytes32 sectionId) external view returns (address[] memory) {
        return _holders[sectionId];
    }

    function releaseOf(bytes32 sectionId, address holder) external view returns (bytes32) {
        return _releases[sectionId][holder];
    }

    function bidOf(bytes32 sectionId, uint32 index) external view returns (Bid memory) {
        return _bids[sectionId][index];
    }

    function committeeOf(bytes32 sectionId) external view returns (address[] memory) {
        return _committee[sectionId];
    }

    function bidderOf(uint32 region, bytes32 bidderId)
        external
        view
        returns (bytes32 caCertHash, bool revoked, BidderKey[] memory keys)
    {
        Bidder storage b = _bidders[region][bidderId];
        return (b.caCertHash, b.revoked, b.keys);
    }

    /// @notice The EIP-712 domain separator bidders and committee members sign under.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // --- internals ---------------------------------------------------------------------------

    function _section(bytes32 sectionId) private view returns (Section storage s) {
        s = _sections[sectionId];
        if (s.state == SectionState.None) revert TenderRulesUnknownSection(sectionId);
    }

    function _owned(bytes32 sectionId, SectionState state) private view returns (Section storage s) {
        s = _section(sectionId);
        if (s.owner != msg.sender) revert TenderRulesNotOwner(sectionId, msg.sender);
        if (s.state != state) revert TenderRulesWrongState(sectionId, s.state);
    }

    function _inOpeningWindow(bytes32 sectionId, Section storage s) private view {
        uint64 until = s.deadline + _profiles[s.profileId].openingGrace;
        if (block.timestamp < s.deadline || block.timestamp > until) {
            revert TenderRulesOutsideOpeningWindow(sectionId, s.deadline, until, uint64(block.timestamp));
        }
    }

    function _openable(bytes32 sectionId, uint32 index, BoxEntry calldata entry, bytes32[] calldata proof)
        private
        view
        returns (Section storage s)
    {
        s = _section(sectionId);
        if (s.state != SectionState.Sealed) revert TenderRulesWrongState(sectionId, s.state);
        _inOpeningWindow(sectionId, s);
        if (_bids[sectionId][index].state != BidState.None) revert TenderRulesAlreadySettled(sectionId, index);
        (bytes32 root, bool ok) = RFC9162.rootFromInclusionProof(index, s.boxSize, leafHashOf(entry), proof);
        if (!ok || root != s.boxRoot || entry.sectionId != sectionId) revert TenderRulesNotInBox(sectionId, index);
        if (entry.receivedAt >= s.deadline) revert BidDeadlinePassed(sectionId, s.deadline, entry.receivedAt);
    }

    function _checkIdentity(bytes32 sectionId, uint32 index, uint32 region, BoxEntry calldata entry,
        Identity calldata id, bytes32 fileKeyHash) private view
    {
        if (pseudonymOf(sectionId, id.bidderId, id.pseudonymSalt) != entry.pseudonym) {
            revert TenderRulesWrongIdentity(sectionId, id.bidderId);
        }
        if (keccak256(abi.encode(fileKeyHash, id.sharesHash, id.version)) != entry.sealHash) {
            revert TenderRulesSealMismatch(sectionId, index);
        }
        Bidder storage b = _bidders[region][id.bidderId];
        if (b.keys.length == 0) revert TenderRulesWrongIdentity(sectionId, id.bidderId);
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(
            SEALED_BID_TYPEHASH, sectionId, entry.pseudonym, entry.cipherHash, entry.clearCommitment, entry.sealHash
        )));
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, id.signature);
        if (err != ECDSA.RecoverError.NoError || !_keyHeldAt(b, signer, entry.receivedAt)) {
            revert TenderRulesInvalidSignature(id.bidderId, signer);
        }
    }

    /// @dev A key counts if the bidder held it when the entry was received: a later rotation or
    /// revocation (the centre's act) cannot void a bid already in the box. Times are seconds: an
    /// entry received in the very second of a rotation counts for the bidder.
    function _keyHeldAt(Bidder storage b, address signer, uint64 at) private view returns (bool) {
        for (uint256 i = 0; i < b.keys.length; ++i) {
            BidderKey storage k = b.keys[i];
            if (k.key == signer && k.since <= at && (k.until == 0 || k.until >= at)) return true;
        }
        return false;
    }

    function _isHolder(bytes32 sectionId, address account) private view returns (bool) {
        return _inList(_holders[sectionId], account);
    }

    function _inList(address[] memory list, address account) private pure returns (bool) {
        for (uint256 i = 0; i < list.length; ++i) {
            if (list[i] == account) return true;
        }
        return false;
    }
}
